"""A deterministic synthetic registry (100,000 cases, 500,000 risks, 300,000 lessons), bulk-inserted, cached under .bench/."""

import hashlib
import json
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Table, create_engine, event, text
from sqlalchemy.engine import make_url

from bench.vocabulary import planted, sentence
from sandbox_api.agencies.models import Agency, AgencyKind
from sandbox_api.cases import documents
from sandbox_api.cases.models import (
    Case,
    CaseCapability,
    CasePartner,
    CasePrinciple,
    CaseSector,
    CaseStatus,
    ExitDecision,
    PartnerRole,
    ReferenceCounter,
    RiskTier,
    SandboxType,
)
from sandbox_api.lessons.models import (
    AdoptionResult,
    Curation,
    Lesson,
    LessonAdoption,
    LessonKind,
    LessonPrinciple,
    LessonRiskDomain,
    LessonSector,
    Transferability,
    lesson_outcome_evidence,
    lesson_risk_evidence,
)
from sandbox_api.outcomes.models import Direction, Method, Outcome, OutcomeKind
from sandbox_api.risks.models import Risk, RiskStatus
from sandbox_api.taxonomies.data import CAPABILITIES, PRINCIPLES, RISK_DOMAINS, RISK_SUBDOMAINS, SECTORS, codes

# Bump when the generated data changes: the cached databases are rebuilt.
GENERATOR_VERSION = 2
SEED = 20_261_123
CASE_COUNT = int(os.environ.get("BENCH_CASES", "100000"))
AGENCY_COUNT = 200
CASES_PER_TRANSACTION = 2_000

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / ".bench"
SQLITE_PATH = BENCH_DIR / "registry.sqlite3"

# Fixed clock, so that every build is the same whatever the day it runs.
FIRST_CREATED = datetime(2019, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 1, tzinfo=UTC)

SECTOR_WEIGHTS = {
    "education": 14,
    "health": 13,
    "public_administration": 12,
    "finance": 9,
    "agriculture": 7,
    "transport_logistics": 6,
    "communications_media": 5,
    "energy_utilities": 5,
    "environment": 5,
    "public_safety": 5,
    "social_protection": 5,
    "trade_industry": 5,
    "tourism_culture": 3,
    "housing_local_government": 3,
    "law_justice": 3,
}
STATUS_WEIGHTS = {
    CaseStatus.DRAFT: 8,
    CaseStatus.SUBMITTED: 6,
    CaseStatus.ADMITTED: 7,
    CaseStatus.REJECTED: 4,
    CaseStatus.ACTIVE: 38,
    CaseStatus.SUSPENDED: 3,
    CaseStatus.EXITED: 26,
    CaseStatus.WITHDRAWN: 8,
}
AGENCY_KIND_WEIGHTS = {
    AgencyKind.MINISTRY: 25,
    AgencyKind.DEPARTMENT: 60,
    AgencyKind.STATUTORY_BODY: 45,
    AgencyKind.STATE_GOVERNMENT: 13,
    AgencyKind.LOCAL_AUTHORITY: 22,
    AgencyKind.GOVERNMENT_COMPANY: 12,
    AgencyKind.ACADEMIC: 12,
    AgencyKind.PRIVATE: 6,
    AgencyKind.CIVIL_SOCIETY: 3,
    AgencyKind.INTERNATIONAL: 2,
}
PUBLISHABLE = {CaseStatus.ADMITTED, CaseStatus.ACTIVE, CaseStatus.SUSPENDED, CaseStatus.EXITED}
STARTED = {CaseStatus.ACTIVE, CaseStatus.SUSPENDED, CaseStatus.EXITED}
REVIEWABLE = {CaseStatus.DRAFT, CaseStatus.SUBMITTED, CaseStatus.ADMITTED, CaseStatus.ACTIVE, CaseStatus.SUSPENDED}

SECTOR_CODES = list(SECTOR_WEIGHTS)
SECTOR_LABELS = {term.code: term.label for term in SECTORS}
CAPABILITY_CODES = codes(CAPABILITIES)
CAPABILITY_LABELS = {term.code: term.label for term in CAPABILITIES}
PRINCIPLE_CODES = codes(PRINCIPLES)
DOMAIN_CODES = codes(RISK_DOMAINS)
SUBDOMAINS_BY_DOMAIN = {
    domain: [term.code for term in RISK_SUBDOMAINS if term.parent == domain] for domain in DOMAIN_CODES
}
SUBDOMAIN_LABELS = {term.code: term.label for term in RISK_SUBDOMAINS}
LOCATIONS = [f"MY-{number:02d}" for number in range(1, 17)] + ["SG", "ID", "TH"]

TOPICS = [
    "triage assistant",
    "document summarisation",
    "service chatbot",
    "fraud screening",
    "demand forecasting",
    "case routing",
    "inspection scheduling",
    "translation service",
    "quality monitoring",
    "eligibility checks",
    "knowledge search",
    "early warning",
    "workload planning",
    "feedback analysis",
    "records digitisation",
]
SETTINGS = [
    "district offices",
    "frontline counters",
    "state agencies",
    "rural clinics",
    "secondary schools",
    "field teams",
]
INSTRUMENTS = [
    "Personal Data Protection Act 2010",
    "Digital Government Cloud Policy",
    "Public Sector Data Sharing Guidelines",
    "National Guidelines on AI Governance and Ethics",
    "Official Secrets Act 1972",
    "Communications and Multimedia Act 1998",
]
PARTNER_NAMES = [
    "Google Cloud",
    "Microsoft Malaysia",
    "Amazon Web Services",
    "Universiti Malaya",
    "Telekom Malaysia",
    "Local start-up",
]
UNITS = ["%", "minutes", "cases per day", "officers", "RM", "hours per week"]
OUTCOME_SUBJECTS = [
    "processing time",
    "citizen satisfaction",
    "error rate",
    "officers trained",
    "cost per case",
    "backlog",
]
OWNERS = ["Project manager", "Chief data officer", "Legal adviser", "IT security lead", "Programme director"]


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logging"] = False
    return config


def alembic_heads() -> list[str]:
    return sorted(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def migrations_digest() -> str:
    """A digest of the migration files, so that an edited (not yet released) migration rebuilds too."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "migrations" / "versions").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def expected_marker() -> dict[str, Any]:
    return {
        "generator_version": GENERATOR_VERSION,
        "alembic_heads": alembic_heads(),
        "migrations": migrations_digest(),
        "cases": CASE_COUNT,
        "seed": SEED,
    }


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _weighted(rng: random.Random, weights: dict) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _distinct(rng: random.Random, population: list, count: int, *, first: Any = None) -> list:
    chosen = [first] if first is not None else []
    while len(chosen) < count:
        value = rng.choice(population)
        if value not in chosen:
            chosen.append(value)
    return chosen


def _weighted_distinct(rng: random.Random, weights: dict, count: int, *, first: Any) -> list:
    chosen = [first]
    population, relative = list(weights), list(weights.values())
    while len(chosen) < count:
        value = rng.choices(population, weights=relative)[0]
        if value not in chosen:
            chosen.append(value)
    return chosen


def _moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = max(0.0, (end - start).total_seconds())
    return start + timedelta(seconds=rng.random() * span, microseconds=rng.randrange(1_000_000))


class RegistryGenerator:
    """Rows of a plausible registry, always the same for the same seed."""

    def __init__(self, seed: int = SEED, case_count: int = CASE_COUNT) -> None:
        self.rng = random.Random(seed)
        self.case_count = case_count
        self.agency_ids: list[uuid.UUID] = []
        self.agency_weights: list[float] = []
        self.case_ids: list[uuid.UUID] = []
        self.adoptable_lessons: list[tuple[uuid.UUID, uuid.UUID]] = []
        self.references: Counter[int] = Counter()
        # Rows of each table that the planted search terms went into, for the marker and the README.
        self.planted: Counter[str] = Counter()
        span = (NOW - timedelta(days=30) - FIRST_CREATED).total_seconds()
        # Registrations grow over the years: a square root skews the creation times towards the present.
        self.created = sorted(
            FIRST_CREATED + timedelta(seconds=span * self.rng.random() ** 0.5) for _ in range(case_count)
        )

    def agencies(self) -> list[dict]:
        rng = self.rng
        kinds = sorted(
            (_weighted(rng, AGENCY_KIND_WEIGHTS) for _ in range(AGENCY_COUNT - 1)),
            key=lambda kind: kind != AgencyKind.MINISTRY,  # parents first
        )
        kinds.insert(0, AgencyKind.MINISTRY)
        rows: list[dict] = []
        ministries: list[uuid.UUID] = []
        for number, kind in enumerate(kinds, start=1):
            agency_id = _uuid(rng)
            acronym = "".join(rng.choice("ABCDEFGHIJKLMNOPRSTUW") for _ in range(rng.randint(3, 5)))
            parent = rng.choice(ministries) if kind in (AgencyKind.DEPARTMENT, AgencyKind.STATUTORY_BODY) else None
            created = _moment(rng, FIRST_CREATED - timedelta(days=365), FIRST_CREATED)
            rows.append(
                {
                    "id": agency_id,
                    "slug": f"{acronym.lower()}-{number:03d}",
                    "name": f"{kind.replace('_', ' ').title()} {acronym} {number}",
                    "acronym": acronym,
                    "kind": kind,
                    "country": "MY" if kind != AgencyKind.INTERNATIONAL else rng.choice(["SG", "ID", "TH"]),
                    "parent_id": parent,
                    "website": f"https://www.{acronym.lower()}{number}.gov.my" if rng.random() < 0.8 else None,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            if kind == AgencyKind.MINISTRY:
                ministries.append(agency_id)
            self.agency_ids.append(agency_id)
            # A few agencies run most pilots (Zipf-like).
            self.agency_weights.append(1 / number**0.8)
        return rows

    def case_batches(self) -> Iterator[dict[Table, list[dict]]]:
        """Cases in creation order, with their links, risks, outcomes and lessons, a transaction's worth at a time."""
        for start in range(0, self.case_count, CASES_PER_TRANSACTION):
            batch: dict[Table, list[dict]] = {table: [] for table in CASE_TABLES}
            for created in self.created[start : start + CASES_PER_TRANSACTION]:
                self._case(batch, created)
            yield batch

    def _case(self, batch: dict[Table, list[dict]], created: datetime) -> None:
        rng = self.rng
        case_id = _uuid(rng)
        self.case_ids.append(case_id)
        self.references[created.year] += 1
        primary = _weighted(rng, SECTOR_WEIGHTS)
        sectors = _weighted_distinct(rng, SECTOR_WEIGHTS, rng.choice((1, 2, 2, 3)), first=primary)
        capabilities = _distinct(rng, CAPABILITY_CODES, rng.choice((1, 1, 2, 3)))
        principles = _distinct(rng, PRINCIPLE_CODES, rng.choice((0, 1, 2, 3)))
        status = _weighted(rng, STATUS_WEIGHTS)
        status_changed = _moment(rng, created, min(NOW, created + timedelta(days=400)))
        planned_start = (created + timedelta(days=rng.randint(14, 120))).date()
        planned_end = planned_start + timedelta(days=rng.choice((90, 180, 365, 540)))
        actual_start = planned_start + timedelta(days=rng.randint(0, 45)) if status in STARTED else None
        actual_end = status_changed.date() if status == CaseStatus.EXITED else None
        if actual_start and actual_end and actual_end < actual_start:
            actual_end = actual_start + timedelta(days=rng.randint(30, 300))
        categories = _distinct(
            rng,
            ["personal", "sensitive_personal", "children", "government_confidential", "public", "synthetic"],
            rng.choice((0, 1, 1, 2)),
        )
        personal = bool({"personal", "sensitive_personal", "children"} & set(categories)) or rng.random() < 0.1
        published = status in PUBLISHABLE and rng.random() < 0.85
        capability = CAPABILITY_LABELS[capabilities[0]]
        topic = rng.choice(TOPICS)
        sector_label = SECTOR_LABELS[primary]
        exited = status == CaseStatus.EXITED
        batch[CASE_TABLE].append(
            {
                "id": case_id,
                "reference": f"SBX-{created.year}-{self.references[created.year]:04d}",
                "title": f"{capability} {topic} for {sector_label.lower()}",
                "summary": f"{capability} pilot of a {topic} in {rng.choice(SETTINGS)}. "
                + sentence(rng, 12, 30, plant=self._planted("cases")),
                "description": (
                    f"## Why\n{sentence(rng, 15, 40)}\n\n## How\nA {topic} built on {capability.lower()}: "
                    + sentence(rng, 15, 40)
                    if rng.random() < 0.35
                    else None
                ),
                "lead_agency_id": rng.choices(self.agency_ids, weights=self.agency_weights)[0],
                "primary_sector": primary,
                "sandbox_type": _weighted(
                    rng,
                    {
                        SandboxType.OPERATIONAL_PILOT: 50,
                        SandboxType.REGULATORY_SANDBOX: 20,
                        SandboxType.TESTBED: 20,
                        SandboxType.FLAGSHIP_PROJECT: 10,
                    },
                ),
                "status": status,
                "status_changed_at": status_changed,
                "planned_start": planned_start,
                "planned_end": planned_end,
                "actual_start": actual_start,
                "actual_end": actual_end,
                "participants_count": rng.choice((None, rng.randint(10, 5_000))),
                "participants_description": rng.choice((None, "public officers", "teachers", "clinic staff")),
                "locations": _distinct(rng, LOCATIONS, rng.choice((0, 1, 1, 2))),
                "risk_tier": rng.choice((None, *RiskTier)),
                "personal_data": personal,
                "data_categories": categories,
                "regulatory_instruments": [
                    {"name": name, "treatment": rng.choice(("tested", "clarified", "waived", "complied")), "note": None}
                    for name in _distinct(rng, INSTRUMENTS, rng.choice((0, 0, 1)))
                ],
                "links": (
                    [
                        {
                            "title": "Announcement",
                            "url": f"https://www.example.gov.my/news/{created:%Y%m%d}",
                            "kind": "source",
                        }
                    ]
                    if rng.random() < 0.3
                    else []
                ),
                "exit_decision": rng.choice(list(ExitDecision)) if exited else None,
                "exit_summary": "Met its targets; the agency decided on the next step with NAIO." if exited else None,
                "exit_report_url": None,
                "exit_decided_on": actual_end if exited else None,
                "next_review_due": (
                    (status_changed + timedelta(days=rng.randint(60, 400))).date() if status in REVIEWABLE else None
                ),
                "published": published,
                "published_at": _moment(rng, status_changed, min(NOW, status_changed + timedelta(days=30)))
                if published
                else None,
                "created_at": created,
                "updated_at": max(created, status_changed),
            }
        )
        batch[CaseSector.__table__].extend({"case_id": case_id, "sector_code": code} for code in sectors)
        batch[CaseCapability.__table__].extend({"case_id": case_id, "capability_code": code} for code in capabilities)
        batch[CasePrinciple.__table__].extend({"case_id": case_id, "principle_code": code} for code in principles)
        for position in range(rng.choice((0, 0, 1, 2))):
            by_agency = rng.random() < 0.4
            batch[CasePartner.__table__].append(
                {
                    "id": _uuid(rng),
                    "case_id": case_id,
                    "position": position,
                    "name": None if by_agency else rng.choice(PARTNER_NAMES),
                    "agency_id": rng.choice(self.agency_ids) if by_agency else None,
                    "role": rng.choice(list(PartnerRole)),
                }
            )
        # 5 risks and 3 lessons per case on average: 500,000 and 300,000 at 100,000 cases.
        risk_ids = [self._risk(batch, case_id, created) for _ in range(rng.choice((2, 3, 4, 5, 6, 7, 8)))]
        outcome_ids = [self._outcome(batch, case_id, created) for _ in range(rng.choice((0, 1, 2, 3, 4)))]
        for _ in range(rng.choice((1, 2, 3, 4, 5))):
            self._lesson(batch, case_id, created, primary, risk_ids, outcome_ids)

    def _planted(self, table: str) -> tuple[str, ...]:
        terms = planted(self.rng)
        self.planted.update(f"{table}: {term}" for term in terms)
        return terms

    def _risk(self, batch: dict[Table, list[dict]], case_id: uuid.UUID, created: datetime) -> uuid.UUID:
        rng = self.rng
        risk_id = _uuid(rng)
        domain = rng.choice(DOMAIN_CODES)
        subdomain = rng.choice(SUBDOMAINS_BY_DOMAIN[domain]) if rng.random() < 0.9 else None
        residual = rng.random() < 0.6
        status = rng.choice(list(RiskStatus))
        batch[RISK_TABLE].append(
            {
                "id": risk_id,
                "case_id": case_id,
                "title": SUBDOMAIN_LABELS[subdomain][:200] if subdomain else "Unclassified operational risk",
                "description": sentence(rng, 6, 20, plant=self._planted("risks")) if rng.random() < 0.5 else None,
                "domain": domain,
                "subdomain": subdomain,
                "principle": rng.choice(PRINCIPLE_CODES) if rng.random() < 0.6 else None,
                "likelihood": rng.randint(1, 5),
                "impact": rng.randint(1, 5),
                "mitigation": sentence(rng, 5, 15) if rng.random() < 0.7 else None,
                "residual_likelihood": rng.randint(1, 3) if residual else None,
                "residual_impact": rng.randint(1, 4) if residual else None,
                "status": status,
                "materialised_note": "Happened once; handled by the fallback process."
                if status == RiskStatus.MATERIALISED
                else None,
                "owner": rng.choice(OWNERS) if rng.random() < 0.7 else None,
                "created_at": created,
                "updated_at": created,
            }
        )
        return risk_id

    def _outcome(self, batch: dict[Table, list[dict]], case_id: uuid.UUID, created: datetime) -> uuid.UUID:
        rng = self.rng
        outcome_id = _uuid(rng)
        quantitative = rng.random() < 0.6
        baseline = round(rng.uniform(10, 500), 1)
        direction = rng.choice(list(Direction))
        target = round(baseline * (1.2 if direction == Direction.INCREASE else 0.8), 1)
        batch[OUTCOME_TABLE].append(
            {
                "id": outcome_id,
                "case_id": case_id,
                "title": rng.choice(OUTCOME_SUBJECTS),
                "kind": OutcomeKind.QUANTITATIVE if quantitative else OutcomeKind.QUALITATIVE,
                "unit": rng.choice(UNITS) if quantitative else None,
                "baseline": baseline if quantitative else None,
                "target": target if quantitative else None,
                "actual": round(target * rng.uniform(0.8, 1.2), 1) if quantitative and rng.random() < 0.7 else None,
                "direction": direction if quantitative else None,
                "measured_on": (created + timedelta(days=rng.randint(60, 500))).date() if rng.random() < 0.7 else None,
                "method": _weighted(
                    rng,
                    {
                        Method.CONTROLLED_EXPERIMENT: 5,
                        Method.OBSERVATIONAL_STUDY: 15,
                        Method.ADMINISTRATIVE_DATA: 30,
                        Method.SURVEY: 30,
                        Method.EXPERT_REVIEW: 10,
                        Method.ANECDOTAL: 10,
                    },
                ),
                "sample_size": rng.randint(20, 3_000) if rng.random() < 0.5 else None,
                "source_url": "https://www.example.gov.my/reports/pilot.pdf" if rng.random() < 0.3 else None,
                "notes": None,
                "created_at": created,
                "updated_at": created,
            }
        )
        return outcome_id

    def _lesson(
        self,
        batch: dict[Table, list[dict]],
        case_id: uuid.UUID,
        created: datetime,
        origin: str,
        risk_ids: list[uuid.UUID],
        outcome_ids: list[uuid.UUID],
    ) -> None:
        rng = self.rng
        lesson_id = _uuid(rng)
        curation = _weighted(rng, {Curation.PROPOSED: 40, Curation.ENDORSED: 50, Curation.RETIRED: 10})
        moment = _moment(rng, created, NOW)
        batch[LESSON_TABLE].append(
            {
                "id": lesson_id,
                "case_id": case_id,
                "title": f"{rng.choice(('Involve', 'Brief', 'Train', 'Consult'))} {rng.choice(('officers', 'the data owner', 'legal advisers', 'users'))} before go-live",
                "statement": sentence(rng, 10, 30, plant=self._planted("lessons")),
                "recommendation": sentence(rng, 6, 18) if rng.random() < 0.7 else None,
                "kind": rng.choice(list(LessonKind)),
                "conditions": "Where officers keep the final decision." if rng.random() < 0.4 else None,
                "evidence_urls": [],
                "transferability": rng.choice(list(Transferability)),
                "curation": curation,
                "created_at": moment,
                "updated_at": moment,
            }
        )
        first = origin if rng.random() < 0.6 else None
        applies_to = _distinct(rng, SECTOR_CODES, rng.choice((1, 2, 3)), first=first)
        batch[LessonSector.__table__].extend({"lesson_id": lesson_id, "sector_code": code} for code in applies_to)
        batch[LessonPrinciple.__table__].extend(
            {"lesson_id": lesson_id, "principle_code": code}
            for code in _distinct(rng, PRINCIPLE_CODES, rng.choice((0, 1, 2)))
        )
        batch[LessonRiskDomain.__table__].extend(
            {"lesson_id": lesson_id, "domain_code": code}
            for code in _distinct(rng, DOMAIN_CODES, rng.choice((0, 1, 2)))
        )
        if outcome_ids and rng.random() < 0.5:
            batch[lesson_outcome_evidence].append({"lesson_id": lesson_id, "outcome_id": rng.choice(outcome_ids)})
        if risk_ids and rng.random() < 0.3:
            batch[lesson_risk_evidence].append({"lesson_id": lesson_id, "risk_id": rng.choice(risk_ids)})
        if curation == Curation.ENDORSED and rng.random() < 0.15:
            self.adoptable_lessons.append((lesson_id, case_id))

    def adoptions(self) -> list[dict]:
        rng = self.rng
        rows = []
        for lesson_id, origin_case in self.adoptable_lessons:
            adopters = {rng.choice(self.case_ids) for _ in range(rng.choice((1, 1, 2, 3)))} - {origin_case}
            for adopter in sorted(adopters):
                moment = _moment(rng, NOW - timedelta(days=700), NOW)
                rows.append(
                    {
                        "id": _uuid(rng),
                        "lesson_id": lesson_id,
                        "adopting_case_id": adopter,
                        "note": "Adapted the co-design phase to our own officers." if rng.random() < 0.5 else None,
                        "result": rng.choice(list(AdoptionResult)),
                        "created_at": moment,
                        "updated_at": moment,
                    }
                )
        return rows

    def reference_counters(self) -> list[dict]:
        return [{"year": year, "last_value": value} for year, value in sorted(self.references.items())]


CASE_TABLE: Table = Case.__table__  # type: ignore[assignment]
RISK_TABLE: Table = Risk.__table__  # type: ignore[assignment]
OUTCOME_TABLE: Table = Outcome.__table__  # type: ignore[assignment]
LESSON_TABLE: Table = Lesson.__table__  # type: ignore[assignment]
# In foreign-key order: each table after those it refers to.
CASE_TABLES: list[Table] = [
    CASE_TABLE,
    CaseSector.__table__,  # type: ignore[list-item]
    CaseCapability.__table__,  # type: ignore[list-item]
    CasePrinciple.__table__,  # type: ignore[list-item]
    CasePartner.__table__,  # type: ignore[list-item]
    RISK_TABLE,
    OUTCOME_TABLE,
    LESSON_TABLE,
    LessonSector.__table__,  # type: ignore[list-item]
    LessonPrinciple.__table__,  # type: ignore[list-item]
    LessonRiskDomain.__table__,  # type: ignore[list-item]
    lesson_outcome_evidence,
    lesson_risk_evidence,
]


def _insert(connection: Connection, table: Table, rows: list[dict]) -> None:
    if rows:
        connection.execute(table.insert(), rows)


def _fast_sqlite_build(dbapi_connection: Any, _record: Any) -> None:
    # Only the build connection: a crash mid-build leaves a temporary file that is thrown away anyway.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous = OFF")
    cursor.execute("PRAGMA journal_mode = MEMORY")
    cursor.execute("PRAGMA cache_size = -200000")
    cursor.close()


def _populate(engine: Engine) -> dict[str, int]:
    """Insert the whole registry, one transaction per batch of cases; returns rows per table."""
    generator = RegistryGenerator()
    counts: Counter[str] = Counter()
    with engine.connect() as connection:
        agencies = generator.agencies()
        with connection.begin():
            _insert(connection, Agency.__table__, agencies)  # type: ignore[arg-type]
        counts["agencies"] = len(agencies)
        for number, batch in enumerate(generator.case_batches(), start=1):
            with connection.begin():
                for table, rows in batch.items():
                    _insert(connection, table, rows)
                    counts[table.name] += len(rows)
                # Bulk inserts bypass the ORM flushes that keep each case's stored document.
                documents.refresh(connection, [row["id"] for row in batch[CASE_TABLE]])
            if number % 10 == 0:
                print(f"  {counts['cases']:,} cases", flush=True)
        adoptions = generator.adoptions()
        with connection.begin():
            for start in range(0, len(adoptions), 10_000):
                _insert(connection, LessonAdoption.__table__, adoptions[start : start + 10_000])  # type: ignore[arg-type]
            _insert(connection, ReferenceCounter.__table__, generator.reference_counters())  # type: ignore[arg-type]
        counts["lesson_adoptions"] = len(adoptions)
    counts.update({f"planted {key}": value for key, value in sorted(generator.planted.items())})
    return dict(counts)


def _read_marker(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _write_marker(path: Path, counts: dict[str, int], seconds: float) -> None:
    path.write_text(json.dumps({**expected_marker(), "rows": counts, "build_seconds": round(seconds, 1)}, indent=2))


def _same_build(marker: dict[str, Any] | None) -> bool:
    expected = expected_marker()
    return marker is not None and all(marker.get(key) == value for key, value in expected.items())


def sqlite_url(path: Path = SQLITE_PATH) -> str:
    return f"sqlite:///{path}"


def ensure_sqlite(*, force: bool = False) -> str:
    """The SQLite registry under .bench/, built unless the cached one matches this generator and migration head."""
    BENCH_DIR.mkdir(exist_ok=True)
    marker_path = SQLITE_PATH.with_suffix(".marker.json")
    if not force and SQLITE_PATH.exists() and _same_build(_read_marker(marker_path)):
        print(f"SQLite: reusing {SQLITE_PATH.relative_to(ROOT)}")
        return sqlite_url()
    print(f"SQLite: building {CASE_COUNT:,} cases into {SQLITE_PATH.relative_to(ROOT)} ...", flush=True)
    started = time.monotonic()
    building = SQLITE_PATH.with_name("registry.building.sqlite3")
    building.unlink(missing_ok=True)
    command.upgrade(alembic_config(sqlite_url(building)), "head")
    engine = create_engine(sqlite_url(building))
    event.listen(engine, "connect", _fast_sqlite_build)
    counts = _populate(engine)
    # The statistics that the registry's own writes keep (`db._refresh_sqlite_statistics`), measured once
    # after the bulk load.
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    engine.dispose()
    # The service opens it in WAL mode; a stale -wal or -shm of a previous file must not survive the swap.
    for suffix in ("-wal", "-shm"):
        Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
    os.replace(building, SQLITE_PATH)
    seconds = time.monotonic() - started
    _write_marker(marker_path, counts, seconds)
    print(f"SQLite: built in {seconds:.0f} s: {counts}")
    return sqlite_url()


def _postgres_marker_path(url: str) -> Path:
    digest = hashlib.sha256(make_url(url).render_as_string(hide_password=True).encode()).hexdigest()[:12]
    return BENCH_DIR / f"postgresql-{digest}.marker.json"


def _postgres_matches(engine: Engine) -> bool:
    """Whether the database still holds what the marker describes (someone may have dropped or reused it)."""
    try:
        with engine.connect() as connection:
            heads = sorted(connection.scalars(text("SELECT version_num FROM alembic_version")))
            cases = connection.scalar(text("SELECT count(*) FROM cases"))
    except Exception:  # any failure (no table, no database) means the cached build is unusable
        return False
    return heads == alembic_heads() and cases == CASE_COUNT


def create_postgres_database(url: str) -> None:
    """Create the database that `url` names if it does not exist yet (connecting to the `postgres` database)."""
    target = make_url(url)
    maintenance = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with maintenance.connect() as connection:
        exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database})
        if not exists:
            print(f"PostgreSQL: creating database {target.database}")
            connection.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    maintenance.dispose()


def ensure_postgres(url: str, *, force: bool = False) -> str:
    """The PostgreSQL registry in the database `url` names, rebuilt (schema `public` dropped) unless up to date."""
    BENCH_DIR.mkdir(exist_ok=True)
    create_postgres_database(url)
    marker_path = _postgres_marker_path(url)
    engine = create_engine(url)
    try:
        if not force and _same_build(_read_marker(marker_path)) and _postgres_matches(engine):
            print(f"PostgreSQL: reusing {make_url(url).database}")
            return url
        print(f"PostgreSQL: building {CASE_COUNT:,} cases into {make_url(url).database} ...", flush=True)
        marker_path.unlink(missing_ok=True)
        started = time.monotonic()
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        command.upgrade(alembic_config(url), "head")
        counts = _populate(engine)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
        seconds = time.monotonic() - started
        _write_marker(marker_path, counts, seconds)
        print(f"PostgreSQL: built in {seconds:.0f} s: {counts}")
        return url
    finally:
        engine.dispose()
