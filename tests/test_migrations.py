"""The migrations: up and down without drift from the models, and standing alone.

A migration is frozen at its moment: it imports nothing of the application, whose models are today's. One
that rendered rows with today's models would fail on the tables of its own moment, once the models had
gained a column that a later migration adds.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select

import sandbox_api.models  # noqa: F401
from sandbox_api.storage.db import Base, make_engine
from sandbox_api.storage.search import include_in_migrations
from sandbox_api.taxonomies import data
from sandbox_api.taxonomies.models import Capability, Principle, RiskDomain, RiskSubdomain, Sector
from tests.conftest import ROOT, alembic_config

# Alembic's command line in a Python that refuses to import `sandbox_api` (though it is on the path, from
# `prepend_sys_path`): what a migration, or env.py, imports of it fails the command.
WITHOUT_THE_APPLICATION = """
import sys


class RefuseTheApplication:
    def find_spec(self, name, path=None, target=None):
        if name == "sandbox_api" or name.startswith("sandbox_api."):
            raise ModuleNotFoundError(f"a migration imported {name}", name=name)
        return None


sys.meta_path.insert(0, RefuseTheApplication())
from alembic.config import main

main(sys.argv[1:])
"""

# Today's models as a maintainer changes them: a budget for each case, in the stored documents too. The
# rendering of the documents changes with them (the application rebuilds them when it starts).
TODAYS_MODELS_WITH_A_BUDGET = """
import sys

import marshmallow as ma
from sqlalchemy import Numeric
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import mapped_column

from sandbox_api.cases import documents
from sandbox_api.cases.models import Case
from sandbox_api.cases.schemas import StoredCaseSchema

before = documents.fingerprint(sqlite.dialect())
Case.budget_myr = mapped_column(Numeric(14, 2))
StoredCaseSchema._declared_fields["budget_myr"] = ma.fields.Decimal(as_string=True)
documents.representation.cache_clear()
documents._fingerprints.clear()
assert "cases.budget_myr" in str(documents.rendered().compile(dialect=sqlite.dialect()))
assert documents.fingerprint(sqlite.dialect()) != before, "the fingerprint missed the new field"
from alembic.config import main

main(sys.argv[1:])
"""

BUDGET_MIGRATION = '''"""A budget for each case.

Revision ID: 9001
Revises: {head}
"""

import sqlalchemy as sa
from alembic import op

revision = "9001"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch_op:
        batch_op.add_column(sa.Column("budget_myr", sa.Numeric(14, 2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch_op:
        batch_op.drop_column("budget_myr")
'''


def alembic_in_a_subprocess(script: str, url: str, *arguments: str, ini: Path = ROOT / "alembic.ini"):
    """`alembic -c ini ...arguments` run by `script`, with the database that DATABASE_URL names (the URL is
    not in alembic.ini: env.py reads the variable)."""
    return subprocess.run(
        [sys.executable, "-c", script, "-c", str(ini), *arguments],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=300,
    )


def head() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def drift_from_the_models(url: str) -> list:
    """What autogenerate would change for the database to match the models: nothing, when they agree."""
    engine = make_engine(url)
    with engine.connect() as connection:
        # The search indexes belong to the migration alone (see search.include_in_migrations).
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_in_migrations}
        )
        drift = compare_metadata(context, Base.metadata)
    engine.dispose()
    return drift


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


def test_migrations_go_up_and_down_and_match_the_models(fresh_url):
    config = alembic_config(fresh_url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    assert table_names(fresh_url) <= {"alembic_version"}

    command.upgrade(config, "head")

    assert drift_from_the_models(fresh_url) == []


def test_migrations_go_up_and_down_without_importing_the_application(fresh_url):
    upgraded = alembic_in_a_subprocess(WITHOUT_THE_APPLICATION, fresh_url, "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    assert drift_from_the_models(fresh_url) == []

    downgraded = alembic_in_a_subprocess(WITHOUT_THE_APPLICATION, fresh_url, "downgrade", "base")
    assert downgraded.returncode == 0, downgraded.stderr
    assert table_names(fresh_url) <= {"alembic_version"}


def test_alembic_check_compares_the_database_with_the_models(fresh_url):
    # Comparing needs the models: env.py imports them for `check` and `revision --autogenerate` alone.
    command.upgrade(alembic_config(fresh_url), "head")
    checked = subprocess.run(
        [sys.executable, "-m", "alembic", "check"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": fresh_url},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stderr
    assert "No new upgrade operations detected" in checked.stdout


def test_a_migration_that_imports_the_application_fails_where_it_cannot(tmp_path):
    # The guard of the test above, shown to bite: a copy of the migrations with one that imports the models.
    shutil.copytree(ROOT / "migrations", tmp_path / "migrations", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "alembic.ini", tmp_path / "alembic.ini")
    migration = BUDGET_MIGRATION.format(head=head()).replace(
        "from alembic import op\n", "from alembic import op\n\nimport sandbox_api.models  # noqa: F401\n"
    )
    (tmp_path / "migrations" / "versions" / "29991231_9001_budget.py").write_text(migration)
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"

    upgraded = alembic_in_a_subprocess(WITHOUT_THE_APPLICATION, url, "upgrade", "head", ini=tmp_path / "alembic.ini")

    assert upgraded.returncode != 0
    assert "a migration imported sandbox_api" in upgraded.stderr


def test_an_empty_database_upgrades_when_the_models_have_gained_a_column_a_later_migration_adds(tmp_path):
    # The maintainer's change from issue 18: the models and the stored documents gain `budget_myr`, and a
    # new migration adds it. Every earlier migration runs against the tables of its own moment.
    shutil.copytree(ROOT / "migrations", tmp_path / "migrations", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "alembic.ini", tmp_path / "alembic.ini")
    (tmp_path / "migrations" / "versions" / "29991231_9001_budget.py").write_text(BUDGET_MIGRATION.format(head=head()))
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"

    upgraded = alembic_in_a_subprocess(
        TODAYS_MODELS_WITH_A_BUDGET, url, "upgrade", "head", ini=tmp_path / "alembic.ini"
    )

    assert upgraded.returncode == 0, upgraded.stderr
    engine = make_engine(url)
    assert "budget_myr" in {column["name"] for column in inspect(engine).get_columns("cases")}
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "9001"
    engine.dispose()


def test_the_migrations_load_the_taxonomies(fresh_engine):
    expected = {
        Sector: data.SECTORS,
        Capability: data.CAPABILITIES,
        Principle: data.PRINCIPLES,
        RiskDomain: data.RISK_DOMAINS,
    }
    with fresh_engine.connect() as connection:
        for model, terms in expected.items():
            rows = connection.execute(select(model.code, model.label).order_by(model.position)).all()
            assert [tuple(row) for row in rows] == [(term.code, term.label) for term in terms]
        subdomains = connection.execute(
            select(RiskSubdomain.code, RiskSubdomain.domain_code).order_by(RiskSubdomain.position)
        ).all()
    assert [tuple(row) for row in subdomains] == [(term.code, term.parent) for term in data.RISK_SUBDOMAINS]
