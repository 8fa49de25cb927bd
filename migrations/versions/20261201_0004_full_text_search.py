"""Full-text search of cases, lessons and risks: FTS5 tables kept by triggers on SQLite, generated
tsvector columns with GIN indexes on PostgreSQL (see sandbox_api/search.py).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:30:00.000000

"""

from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: Union[str, Sequence[str], None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Per table, its searched columns with their weight: A the title, B the main text, C the rest. The same
# as sandbox_api.search, written out here because a migration must not change when the code does.
INDEXED = {
    "cases": (
        ("title", "A"),
        ("summary", "B"),
        ("description", "C"),
        ("reference", "C"),
        ("participants_description", "C"),
    ),
    "lessons": (("title", "A"), ("statement", "B"), ("recommendation", "B"), ("conditions", "C")),
    "risks": (("title", "A"), ("description", "C"), ("mitigation", "C"), ("materialised_note", "C")),
}
# bm25 column weights in the ratios of PostgreSQL's default ts_rank weights (A 1.0, B 0.4, C 0.2).
BM25_WEIGHTS = {"A": "10.0", "B": "4.0", "C": "2.0"}
TOKENIZER = "porter unicode61 remove_diacritics 2"


def _sqlite_upgrade(table: str, columns: tuple) -> None:
    fts = f"{table}_fts"
    names = [name for name, _ in columns]
    listed = ", ".join(names)
    new = ", ".join(f"new.{name}" for name in names)
    old = ", ".join(f"old.{name}" for name in names)
    # External content: the text stays in the table itself; the index holds only the tokens, keyed by
    # the row's rowid. Deleting from such an index needs the old values, which the triggers pass.
    op.execute(
        f"CREATE VIRTUAL TABLE {fts} USING fts5({listed}, content='{table}', content_rowid='rowid', "
        f"tokenize='{TOKENIZER}')"
    )
    weights = ", ".join(BM25_WEIGHTS[weight] for _, weight in columns)
    op.execute(f"INSERT INTO {fts}({fts}, rank) VALUES ('rank', 'bm25({weights})')")
    op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
    op.execute(
        f"CREATE TRIGGER {fts}_after_insert AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, {listed}) VALUES (new.rowid, {new}); END"
    )
    op.execute(
        f"CREATE TRIGGER {fts}_after_delete AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {listed}) VALUES ('delete', old.rowid, {old}); END"
    )
    op.execute(
        f"CREATE TRIGGER {fts}_after_update AFTER UPDATE OF {listed} ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {listed}) VALUES ('delete', old.rowid, {old}); "
        f"INSERT INTO {fts}(rowid, {listed}) VALUES (new.rowid, {new}); END"
    )


def _sqlite_downgrade(table: str) -> None:
    fts = f"{table}_fts"
    for event in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER {fts}_after_{event}")
    op.execute(f"DROP TABLE {fts}")


def _postgresql_upgrade(table: str, columns: tuple) -> None:
    # A stored generated column is computed in the statement that writes the row, and adding it fills
    # it for every existing row.
    vector = " || ".join(
        f"setweight(to_tsvector('english'::regconfig, coalesce({name}, '')), '{weight}')" for name, weight in columns
    )
    op.execute(f"ALTER TABLE {table} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({vector}) STORED")
    op.execute(f"CREATE INDEX ix_{table}_search_vector ON {table} USING gin (search_vector)")


def _postgresql_downgrade(table: str) -> None:
    op.execute(f"DROP INDEX ix_{table}_search_vector")
    op.execute(f"ALTER TABLE {table} DROP COLUMN search_vector")


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, columns in INDEXED.items():
        if postgresql:
            _postgresql_upgrade(table, columns)
        else:
            _sqlite_upgrade(table, columns)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in INDEXED:
        if postgresql:
            _postgresql_downgrade(table)
        else:
            _sqlite_downgrade(table)
