"""Registry core: agencies, cases, risks, outcomes, lessons, adoptions, API keys and the taxonomies.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 16:57:12.881226

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


# The taxonomies as they stood at this revision; later changes come in later migrations.
# Sources: AIGE principles, National Guidelines on AI Governance and Ethics (Malaysia, 2024);
# risk domains, MIT AI Risk Repository domain taxonomy (2025, with subdomain 7.6).
TAXONOMY_ROWS = {
    "sectors": [
        {"code": "education", "label": "Education", "position": 0},
        {"code": "health", "label": "Health", "position": 1},
        {"code": "finance", "label": "Finance", "position": 2},
        {"code": "agriculture", "label": "Agriculture", "position": 3},
        {"code": "public_administration", "label": "Public administration", "position": 4},
        {"code": "communications_media", "label": "Communications and media", "position": 5},
        {"code": "transport_logistics", "label": "Transport and logistics", "position": 6},
        {"code": "energy_utilities", "label": "Energy and utilities", "position": 7},
        {"code": "environment", "label": "Environment", "position": 8},
        {"code": "public_safety", "label": "Public safety", "position": 9},
        {"code": "social_protection", "label": "Social protection", "position": 10},
        {"code": "trade_industry", "label": "Trade and industry", "position": 11},
        {"code": "tourism_culture", "label": "Tourism and culture", "position": 12},
        {"code": "housing_local_government", "label": "Housing and local government", "position": 13},
        {"code": "law_justice", "label": "Law and justice", "position": 14},
    ],
    "capabilities": [
        {"code": "generative_ai", "label": "Generative AI", "position": 0},
        {"code": "language", "label": "Language processing", "position": 1},
        {"code": "speech", "label": "Speech", "position": 2},
        {"code": "computer_vision", "label": "Computer vision", "position": 3},
        {"code": "forecasting", "label": "Forecasting", "position": 4},
        {"code": "recommendation", "label": "Recommendation", "position": 5},
        {"code": "optimisation_planning", "label": "Optimisation and planning", "position": 6},
        {"code": "anomaly_detection", "label": "Anomaly detection", "position": 7},
        {"code": "robotics_automation", "label": "Robotics and automation", "position": 8},
        {"code": "decision_support", "label": "Decision support", "position": 9},
        {"code": "other", "label": "Other", "position": 10},
    ],
    "principles": [
        {"code": "fairness", "label": "Fairness", "position": 0},
        {"code": "reliability_safety_control", "label": "Reliability, safety and control", "position": 1},
        {"code": "privacy_security", "label": "Privacy and security", "position": 2},
        {"code": "inclusiveness", "label": "Inclusiveness", "position": 3},
        {"code": "transparency", "label": "Transparency", "position": 4},
        {"code": "accountability", "label": "Accountability", "position": 5},
        {"code": "human_benefit", "label": "Pursuit of human benefit and happiness", "position": 6},
    ],
    "risk_domains": [
        {"code": "1", "label": "Discrimination and toxicity", "position": 0},
        {"code": "2", "label": "Privacy and security", "position": 1},
        {"code": "3", "label": "Misinformation", "position": 2},
        {"code": "4", "label": "Malicious actors and misuse", "position": 3},
        {"code": "5", "label": "Human-computer interaction", "position": 4},
        {"code": "6", "label": "Socioeconomic and environmental harms", "position": 5},
        {"code": "7", "label": "AI system safety, failures and limitations", "position": 6},
    ],
    "risk_subdomains": [
        {"code": "1.1", "label": "Unfair discrimination and misrepresentation", "position": 0, "domain_code": "1"},
        {"code": "1.2", "label": "Exposure to toxic content", "position": 1, "domain_code": "1"},
        {"code": "1.3", "label": "Unequal performance across groups", "position": 2, "domain_code": "1"},
        {
            "code": "2.1",
            "label": "Compromise of privacy by obtaining, leaking or correctly inferring sensitive information",
            "position": 3,
            "domain_code": "2",
        },
        {"code": "2.2", "label": "AI system security vulnerabilities and attacks", "position": 4, "domain_code": "2"},
        {"code": "3.1", "label": "False or misleading information", "position": 5, "domain_code": "3"},
        {
            "code": "3.2",
            "label": "Pollution of information ecosystem and loss of consensus reality",
            "position": 6,
            "domain_code": "3",
        },
        {
            "code": "4.1",
            "label": "Disinformation, surveillance, and influence at scale",
            "position": 7,
            "domain_code": "4",
        },
        {
            "code": "4.2",
            "label": "Cyberattacks, weapon development or use, and mass harm",
            "position": 8,
            "domain_code": "4",
        },
        {"code": "4.3", "label": "Fraud, scams, and targeted manipulation", "position": 9, "domain_code": "4"},
        {"code": "5.1", "label": "Overreliance and unsafe use", "position": 10, "domain_code": "5"},
        {"code": "5.2", "label": "Loss of human agency and autonomy", "position": 11, "domain_code": "5"},
        {
            "code": "6.1",
            "label": "Power centralization and unfair distribution of benefits",
            "position": 12,
            "domain_code": "6",
        },
        {
            "code": "6.2",
            "label": "Increased inequality and decline in employment quality",
            "position": 13,
            "domain_code": "6",
        },
        {
            "code": "6.3",
            "label": "Economic and cultural devaluation of human effort",
            "position": 14,
            "domain_code": "6",
        },
        {"code": "6.4", "label": "Competitive dynamics", "position": 15, "domain_code": "6"},
        {"code": "6.5", "label": "Governance failure", "position": 16, "domain_code": "6"},
        {"code": "6.6", "label": "Environmental harm", "position": 17, "domain_code": "6"},
        {
            "code": "7.1",
            "label": "AI pursuing its own goals in conflict with human goals or values",
            "position": 18,
            "domain_code": "7",
        },
        {"code": "7.2", "label": "AI possessing dangerous capabilities", "position": 19, "domain_code": "7"},
        {"code": "7.3", "label": "Lack of capability or robustness", "position": 20, "domain_code": "7"},
        {"code": "7.4", "label": "Lack of transparency or interpretability", "position": 21, "domain_code": "7"},
        {"code": "7.5", "label": "AI welfare and rights", "position": 22, "domain_code": "7"},
        {"code": "7.6", "label": "Multi-agent risks", "position": 23, "domain_code": "7"},
    ],
}


def load_taxonomies() -> None:
    for table_name, rows in TAXONOMY_ROWS.items():
        columns = [sa.column(name) for name in rows[0]]
        op.bulk_insert(sa.table(table_name, *columns), rows)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "agencies",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("acronym", sa.String(length=20), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "ministry",
                "department",
                "statutory_body",
                "state_government",
                "local_authority",
                "government_company",
                "academic",
                "private",
                "civil_society",
                "international",
                name="agency_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("website", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["agencies.id"], name=op.f("fk_agencies_parent_id_agencies"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies")),
        sa.UniqueConstraint("slug", name=op.f("uq_agencies_slug")),
    )
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agencies_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "capabilities",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_capabilities")),
    )
    op.create_table(
        "principles",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_principles")),
    )
    op.create_table(
        "reference_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_reference_counters")),
    )
    op.create_table(
        "risk_domains",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_risk_domains")),
    )
    op.create_table(
        "sectors",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_sectors")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum("admin", "naio", "agency", name="api_key_role", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("agency_id", sa.Uuid(), nullable=True),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(role = 'agency') = (agency_id IS NOT NULL)", name=op.f("ck_api_keys_agency_keys_name_an_agency")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_api_keys_agency_id_agencies"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_agency_id"), ["agency_id"], unique=False)

    op.create_table(
        "cases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=2000), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("lead_agency_id", sa.Uuid(), nullable=False),
        sa.Column("primary_sector", sa.String(length=40), nullable=False),
        sa.Column(
            "sandbox_type",
            sa.Enum(
                "regulatory_sandbox",
                "operational_pilot",
                "flagship_project",
                "testbed",
                name="sandbox_type",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "submitted",
                "admitted",
                "rejected",
                "active",
                "suspended",
                "exited",
                "withdrawn",
                name="case_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("planned_start", sa.Date(), nullable=True),
        sa.Column("planned_end", sa.Date(), nullable=True),
        sa.Column("actual_start", sa.Date(), nullable=True),
        sa.Column("actual_end", sa.Date(), nullable=True),
        sa.Column("participants_count", sa.Integer(), nullable=True),
        sa.Column("participants_description", sa.String(length=500), nullable=True),
        sa.Column(
            "locations", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "risk_tier",
            sa.Enum("minimal", "limited", "high", name="risk_tier", native_enum=False, create_constraint=True),
            nullable=True,
        ),
        sa.Column("personal_data", sa.Boolean(), nullable=False),
        sa.Column(
            "data_categories",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "regulatory_instruments",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "links", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "exit_decision",
            sa.Enum(
                "scale",
                "replicate",
                "extend",
                "continue",
                "discontinue",
                name="exit_decision",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("exit_summary", sa.Text(), nullable=True),
        sa.Column("exit_report_url", sa.String(length=2000), nullable=True),
        sa.Column("exit_decided_on", sa.Date(), nullable=True),
        sa.Column("next_review_due", sa.Date(), nullable=True),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_agency_id"], ["agencies.id"], name=op.f("fk_cases_lead_agency_id_agencies"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(["primary_sector"], ["sectors.code"], name=op.f("fk_cases_primary_sector_sectors")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("reference", name=op.f("uq_cases_reference")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_lead_agency_id"), ["lead_agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_next_review_due"), ["next_review_due"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_primary_sector"), ["primary_sector"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_risk_tier"), ["risk_tier"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_sandbox_type"), ["sandbox_type"], unique=False)
        batch_op.create_index("ix_cases_status_created_at", ["status", "created_at"], unique=False)

    op.create_table(
        "risk_subdomains",
        sa.Column("domain_code", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_code"], ["risk_domains.code"], name=op.f("fk_risk_subdomains_domain_code_risk_domains")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_risk_subdomains")),
    )
    with op.batch_alter_table("risk_subdomains", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_risk_subdomains_domain_code"), ["domain_code"], unique=False)

    op.create_table(
        "case_capabilities",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("capability_code", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["capability_code"], ["capabilities.code"], name=op.f("fk_case_capabilities_capability_code_capabilities")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_capabilities_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("case_id", "capability_code", name=op.f("pk_case_capabilities")),
    )
    with op.batch_alter_table("case_capabilities", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_capabilities_capability_code_case_id", ["capability_code", "case_id"], unique=False
        )

    op.create_table(
        "case_partners",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("agency_id", sa.Uuid(), nullable=True),
        sa.Column(
            "role",
            sa.Enum(
                "technology_provider",
                "co_lead",
                "evaluator",
                "funder",
                "participant",
                name="partner_role",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_case_partners_agency_id_agencies"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_partners_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_partners")),
    )
    with op.batch_alter_table("case_partners", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_partners_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_partners_case_id"), ["case_id"], unique=False)

    op.create_table(
        "case_principles",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("principle_code", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_principles_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["principle_code"], ["principles.code"], name=op.f("fk_case_principles_principle_code_principles")
        ),
        sa.PrimaryKeyConstraint("case_id", "principle_code", name=op.f("pk_case_principles")),
    )
    with op.batch_alter_table("case_principles", schema=None) as batch_op:
        batch_op.create_index("ix_case_principles_principle_code_case_id", ["principle_code", "case_id"], unique=False)

    op.create_table(
        "case_sectors",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("sector_code", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_sectors_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["sector_code"], ["sectors.code"], name=op.f("fk_case_sectors_sector_code_sectors")),
        sa.PrimaryKeyConstraint("case_id", "sector_code", name=op.f("pk_case_sectors")),
    )
    with op.batch_alter_table("case_sectors", schema=None) as batch_op:
        batch_op.create_index("ix_case_sectors_sector_code_case_id", ["sector_code", "case_id"], unique=False)

    op.create_table(
        "lessons",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("recommendation", sa.Text(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "good_practice",
                "pitfall",
                "regulatory_insight",
                "technical_insight",
                "process_insight",
                name="lesson_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("conditions", sa.Text(), nullable=True),
        sa.Column(
            "evidence_urls",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "transferability",
            sa.Enum("low", "medium", "high", name="lesson_transferability", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column(
            "curation",
            sa.Enum(
                "proposed", "endorsed", "retired", name="lesson_curation", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_lessons_case_id_cases"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lessons")),
    )
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lessons_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_lessons_kind"), ["kind"], unique=False)

    op.create_table(
        "outcomes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("quantitative", "qualitative", name="outcome_kind", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("unit", sa.String(length=50), nullable=True),
        sa.Column("baseline", sa.Float(), nullable=True),
        sa.Column("target", sa.Float(), nullable=True),
        sa.Column("actual", sa.Float(), nullable=True),
        sa.Column(
            "direction",
            sa.Enum("increase", "decrease", name="outcome_direction", native_enum=False, create_constraint=True),
            nullable=True,
        ),
        sa.Column("measured_on", sa.Date(), nullable=True),
        sa.Column(
            "method",
            sa.Enum(
                "controlled_experiment",
                "observational_study",
                "administrative_data",
                "survey",
                "expert_review",
                "anecdotal",
                name="outcome_method",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("sample_size", sa.Integer(), nullable=True),
        sa.Column("source_url", sa.String(length=2000), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_outcomes_case_id_cases"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcomes")),
    )
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outcomes_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outcomes_method"), ["method"], unique=False)

    op.create_table(
        "risks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("domain", sa.String(length=40), nullable=False),
        sa.Column("subdomain", sa.String(length=40), nullable=True),
        sa.Column("principle", sa.String(length=40), nullable=True),
        sa.Column("likelihood", sa.SmallInteger(), nullable=False),
        sa.Column("impact", sa.SmallInteger(), nullable=False),
        sa.Column("score", sa.SmallInteger(), sa.Computed("likelihood * impact", persisted=True), nullable=False),
        sa.Column("mitigation", sa.Text(), nullable=True),
        sa.Column("residual_likelihood", sa.SmallInteger(), nullable=True),
        sa.Column("residual_impact", sa.SmallInteger(), nullable=True),
        sa.Column(
            "residual_score",
            sa.SmallInteger(),
            sa.Computed("residual_likelihood * residual_impact", persisted=True),
            nullable=True,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "identified",
                "mitigating",
                "mitigated",
                "accepted",
                "materialised",
                "closed",
                name="risk_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("materialised_note", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("impact BETWEEN 1 AND 5", name=op.f("ck_risks_impact_1_to_5")),
        sa.CheckConstraint("likelihood BETWEEN 1 AND 5", name=op.f("ck_risks_likelihood_1_to_5")),
        sa.CheckConstraint("residual_impact BETWEEN 1 AND 5", name=op.f("ck_risks_residual_impact_1_to_5")),
        sa.CheckConstraint("residual_likelihood BETWEEN 1 AND 5", name=op.f("ck_risks_residual_likelihood_1_to_5")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_risks_case_id_cases"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["domain"], ["risk_domains.code"], name=op.f("fk_risks_domain_risk_domains")),
        sa.ForeignKeyConstraint(["principle"], ["principles.code"], name=op.f("fk_risks_principle_principles")),
        sa.ForeignKeyConstraint(
            ["subdomain"], ["risk_subdomains.code"], name=op.f("fk_risks_subdomain_risk_subdomains")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risks")),
    )
    with op.batch_alter_table("risks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_risks_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_risks_domain"), ["domain"], unique=False)
        batch_op.create_index(batch_op.f("ix_risks_subdomain"), ["subdomain"], unique=False)

    op.create_table(
        "lesson_adoptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("lesson_id", sa.Uuid(), nullable=False),
        sa.Column("adopting_case_id", sa.Uuid(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "result",
            sa.Enum(
                "planned",
                "applied",
                "worked",
                "did_not_work",
                name="adoption_result",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["adopting_case_id"],
            ["cases.id"],
            name=op.f("fk_lesson_adoptions_adopting_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"], ["lessons.id"], name=op.f("fk_lesson_adoptions_lesson_id_lessons"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson_adoptions")),
        sa.UniqueConstraint("lesson_id", "adopting_case_id", name="uq_lesson_adoptions_lesson_case"),
    )
    with op.batch_alter_table("lesson_adoptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lesson_adoptions_adopting_case_id"), ["adopting_case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_lesson_adoptions_lesson_id"), ["lesson_id"], unique=False)

    op.create_table(
        "lesson_outcome_evidence",
        sa.Column("lesson_id", sa.Uuid(), nullable=False),
        sa.Column("outcome_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lesson_id"], ["lessons.id"], name=op.f("fk_lesson_outcome_evidence_lesson_id_lessons"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["outcome_id"],
            ["outcomes.id"],
            name=op.f("fk_lesson_outcome_evidence_outcome_id_outcomes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("lesson_id", "outcome_id", name=op.f("pk_lesson_outcome_evidence")),
    )
    with op.batch_alter_table("lesson_outcome_evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lesson_outcome_evidence_outcome_id"), ["outcome_id"], unique=False)

    op.create_table(
        "lesson_principles",
        sa.Column("lesson_id", sa.Uuid(), nullable=False),
        sa.Column("principle_code", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["lesson_id"], ["lessons.id"], name=op.f("fk_lesson_principles_lesson_id_lessons"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["principle_code"], ["principles.code"], name=op.f("fk_lesson_principles_principle_code_principles")
        ),
        sa.PrimaryKeyConstraint("lesson_id", "principle_code", name=op.f("pk_lesson_principles")),
    )
    with op.batch_alter_table("lesson_principles", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lesson_principles_principle_code_lesson_id", ["principle_code", "lesson_id"], unique=False
        )

    op.create_table(
        "lesson_risk_domains",
        sa.Column("lesson_id", sa.Uuid(), nullable=False),
        sa.Column("domain_code", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_code"], ["risk_domains.code"], name=op.f("fk_lesson_risk_domains_domain_code_risk_domains")
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"], ["lessons.id"], name=op.f("fk_lesson_risk_domains_lesson_id_lessons"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("lesson_id", "domain_code", name=op.f("pk_lesson_risk_domains")),
    )
    with op.batch_alter_table("lesson_risk_domains", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lesson_risk_domains_domain_code_lesson_id", ["domain_code", "lesson_id"], unique=False
        )

    op.create_table(
        "lesson_risk_evidence",
        sa.Column("lesson_id", sa.Uuid(), nullable=False),
        sa.Column("risk_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lesson_id"], ["lessons.id"], name=op.f("fk_lesson_risk_evidence_lesson_id_lessons"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["risk_id"], ["risks.id"], name=op.f("fk_lesson_risk_evidence_risk_id_risks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("lesson_id", "risk_id", name=op.f("pk_lesson_risk_evidence")),
    )
    with op.batch_alter_table("lesson_risk_evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lesson_risk_evidence_risk_id"), ["risk_id"], unique=False)

    op.create_table(
        "lesson_sectors",
        sa.Column("lesson_id", sa.Uuid(), nullable=False),
        sa.Column("sector_code", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["lesson_id"], ["lessons.id"], name=op.f("fk_lesson_sectors_lesson_id_lessons"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["sector_code"], ["sectors.code"], name=op.f("fk_lesson_sectors_sector_code_sectors")),
        sa.PrimaryKeyConstraint("lesson_id", "sector_code", name=op.f("pk_lesson_sectors")),
    )
    with op.batch_alter_table("lesson_sectors", schema=None) as batch_op:
        batch_op.create_index("ix_lesson_sectors_sector_code_lesson_id", ["sector_code", "lesson_id"], unique=False)
    load_taxonomies()


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("lesson_sectors", schema=None) as batch_op:
        batch_op.drop_index("ix_lesson_sectors_sector_code_lesson_id")

    op.drop_table("lesson_sectors")
    with op.batch_alter_table("lesson_risk_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lesson_risk_evidence_risk_id"))

    op.drop_table("lesson_risk_evidence")
    with op.batch_alter_table("lesson_risk_domains", schema=None) as batch_op:
        batch_op.drop_index("ix_lesson_risk_domains_domain_code_lesson_id")

    op.drop_table("lesson_risk_domains")
    with op.batch_alter_table("lesson_principles", schema=None) as batch_op:
        batch_op.drop_index("ix_lesson_principles_principle_code_lesson_id")

    op.drop_table("lesson_principles")
    with op.batch_alter_table("lesson_outcome_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lesson_outcome_evidence_outcome_id"))

    op.drop_table("lesson_outcome_evidence")
    with op.batch_alter_table("lesson_adoptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lesson_adoptions_lesson_id"))
        batch_op.drop_index(batch_op.f("ix_lesson_adoptions_adopting_case_id"))

    op.drop_table("lesson_adoptions")
    with op.batch_alter_table("risks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risks_subdomain"))
        batch_op.drop_index(batch_op.f("ix_risks_domain"))
        batch_op.drop_index(batch_op.f("ix_risks_case_id"))

    op.drop_table("risks")
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outcomes_method"))
        batch_op.drop_index(batch_op.f("ix_outcomes_case_id"))

    op.drop_table("outcomes")
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lessons_kind"))
        batch_op.drop_index(batch_op.f("ix_lessons_case_id"))

    op.drop_table("lessons")
    with op.batch_alter_table("case_sectors", schema=None) as batch_op:
        batch_op.drop_index("ix_case_sectors_sector_code_case_id")

    op.drop_table("case_sectors")
    with op.batch_alter_table("case_principles", schema=None) as batch_op:
        batch_op.drop_index("ix_case_principles_principle_code_case_id")

    op.drop_table("case_principles")
    with op.batch_alter_table("case_partners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_partners_case_id"))
        batch_op.drop_index(batch_op.f("ix_case_partners_agency_id"))

    op.drop_table("case_partners")
    with op.batch_alter_table("case_capabilities", schema=None) as batch_op:
        batch_op.drop_index("ix_case_capabilities_capability_code_case_id")

    op.drop_table("case_capabilities")
    with op.batch_alter_table("risk_subdomains", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_subdomains_domain_code"))

    op.drop_table("risk_subdomains")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_status_created_at")
        batch_op.drop_index(batch_op.f("ix_cases_sandbox_type"))
        batch_op.drop_index(batch_op.f("ix_cases_risk_tier"))
        batch_op.drop_index(batch_op.f("ix_cases_primary_sector"))
        batch_op.drop_index(batch_op.f("ix_cases_next_review_due"))
        batch_op.drop_index(batch_op.f("ix_cases_lead_agency_id"))
        batch_op.drop_index("ix_cases_created_at_id")

    op.drop_table("cases")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_agency_id"))

    op.drop_table("api_keys")
    op.drop_table("sectors")
    op.drop_table("risk_domains")
    op.drop_table("reference_counters")
    op.drop_table("principles")
    op.drop_table("capabilities")
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agencies_parent_id"))

    op.drop_table("agencies")
