"""Every read route answers, for every resource, what marshmallow's `Schema().dump()` makes of the same row
(issue 18, item 2).

The API renders its JSON in the database (storage/rendering.py derives the SQL from the schemas), and reads
cases from their stored documents (cases/documents.py). Here Hypothesis generates records, written through
the API as its callers write them: nulls, absent fields, empty lists, long text up to each field's maximum,
Malay, Tamil, Chinese and emoji, quotes, backslashes and the control characters the API keeps (never a C0
control but tab and line breaks, nor a lone surrogate, which the API refuses), cases taken along their
lifecycle to an exit and published. Then every
read route's answer is compared with the schema's dump of the same row, loaded with the ORM in a session of
the test's transaction: the schema the route renders for that caller (`cases_service.schema_for` for cases,
`events_service.schema_for` for events, the list's schema for list items).

The comparison is of JSON values: a boolean is not a number, an integer equals a float of the same value
(JSON has one kind of number), and the order of an object's members is not compared (the stored document
has its computed fields appended, PostgreSQL's JSONB orders the keys of what it stores). List items may
carry annotations that are not part of the resource: `match` (searched with `q`) and `ranking` (lessons
ranked `for_sector`). They must be there exactly when expected, and are left out of the comparison; the
rest of the item must be the resource, field for field.

Each example runs in a savepoint of the test's transaction, rolled back at its end, and names its records
uniquely (slugs, and a search word in its titles): examples are independent.
"""

import itertools
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import partial
from typing import cast
from urllib.parse import quote

import marshmallow as ma
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, String, func, or_, select
from sqlalchemy.orm import Session, undefer

from sandbox_api.agencies.models import Agency, AgencyKind
from sandbox_api.agencies.schemas import AgencySchema
from sandbox_api.cases import service as cases_service
from sandbox_api.cases.models import Case, ExitDecision, PartnerRole, RiskTier, SandboxType
from sandbox_api.cases.schemas import (
    DataCategory,
    LinkKind,
    PublicCaseSchema,
    Treatment,
)
from sandbox_api.config import TestConfig
from sandbox_api.events import service as events_service
from sandbox_api.events.schemas import EventSchema
from sandbox_api.keys.models import ApiKey
from sandbox_api.keys.schemas import ApiKeySchema
from sandbox_api.lessons.models import AdoptionResult, Curation, Lesson, LessonAdoption, LessonKind, Transferability
from sandbox_api.lessons.schemas import AdoptionSchema, LessonInCaseSchema, LessonSchema
from sandbox_api.outcomes.models import Direction, Method, Outcome, OutcomeKind
from sandbox_api.outcomes.schemas import OutcomeInCaseSchema, OutcomeSchema
from sandbox_api.policy.audit import Event
from sandbox_api.policy.auth import ANONYMOUS, Caller, Role
from sandbox_api.risks.models import Risk, RiskStatus
from sandbox_api.risks.schemas import RiskInCaseSchema, RiskSchema
from sandbox_api.storage.db import db
from sandbox_api.taxonomies import service as taxonomies_service
from sandbox_api.taxonomies.data import CAPABILITIES, PRINCIPLES, RISK_DOMAINS, RISK_SUBDOMAINS, SECTORS, codes
from sandbox_api.taxonomies.models import RiskSubdomain
from sandbox_api.taxonomies.schemas import TaxonomySchema
from sandbox_api.wire.fields import LONG_TEXT, URL_LENGTH
from tests.conftest import Actor, cases_with_stale_documents, make_key

# Examples per test: the whole module runs in well under a minute per database.
SCENARIOS = 10
KEY_SCENARIOS = 8
SETTINGS = settings(
    deadline=None,
    # No shrinking: an example is dozens of requests, and shrinking one took minutes. A failure names the
    # route, the record, the field and both values already.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    database=None,  # no `.hypothesis` directory in the working tree
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # each example runs in a savepoint of the test's transaction
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

# --------------------------------------------------------------------------------------------------------
# Strategies: request bodies that the schemas' validators accept.

ABSENT = object()  # a field left out of the body


def optional(strategy: st.SearchStrategy, *, nullable: bool = True) -> st.SearchStrategy:
    """The field absent, null (when the schema allows it) or a value."""
    choices = [st.just(ABSENT), strategy]
    if nullable:
        choices.insert(1, st.none())
    return st.one_of(*choices)


def clean(value):
    """The body without its absent fields."""
    if isinstance(value, dict):
        return {name: clean(member) for name, member in value.items() if member is not ABSENT}
    if isinstance(value, list):
        return [clean(member) for member in value]
    return value


# Text that is hard to carry through SQL and JSON unchanged. No C0 control but tab, line feed and carriage
# return, which the API refuses (NUL above all, which PostgreSQL cannot store); `\\u0000` below is six
# characters, a backslash and five more.
FRAGMENTS = (
    "Perintis kecerdasan buatan untuk guru di sekolah luar bandar",  # Malay
    "pelajar",
    "Kementerian Pendidikan Malaysia",
    "செயற்கை நுண்ணறிவு சோதனை",  # Tamil
    "ஆசிரியர்",
    "人工智能试点项目",  # Chinese
    "教师",
    "🤖",
    "🇲🇾",
    "👩🏽‍🏫",  # a ZWJ sequence
    '"',
    "'",
    "\\",
    '\\"',
    "\\u0000",
    "\\n",
    "\n",
    "\r\n",
    "\t",
    "\u2028",
    "\ufeff",
    "\u200b",
    "e\u0301",  # a combining accent
    "&amp; <mark>x</mark>",
    "%s %(x)s {0} $1",
    "' OR 1=1 --",
    "null",
    "[]",
    "\x7f\x85",  # DEL and a C1 control, which the API keeps
    "\uffff\U0010ffff",
    "\ue000\ue001",  # the private-use characters that search snippets use as markers
)
CONTROLS_REFUSED = "".join(chr(code) for code in range(0x20) if chr(code) not in "\t\n\r")
CHARACTERS = st.characters(codec="utf-8", exclude_characters=CONTROLS_REFUSED)  # UTF-8 has no lone surrogates
PIECES = st.one_of(st.sampled_from(FRAGMENTS), st.text(CHARACTERS, min_size=1, max_size=8))


def _repeated(piece: str, length: int) -> str:
    return (piece * (length // len(piece) + 1))[:length]


@st.composite
def texts(draw, max_size: int, *, min_size: int = 0) -> str:
    """Mostly a few words; one time in four as long as the field allows, or nearly."""
    if draw(st.integers(0, 3)) == 0:
        piece = "".join(draw(st.lists(PIECES, min_size=1, max_size=3)))
        return _repeated(piece, draw(st.integers(max(min_size, max_size - 2), max_size)))
    words = draw(st.lists(PIECES, min_size=1 if min_size else 0, max_size=5))
    return " ".join(words)[:max_size]


def required_texts(max_size: int) -> st.SearchStrategy[str]:
    return texts(max_size, min_size=1)


HOST_LABELS = st.one_of(
    st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True),
    st.sampled_from(["kementerian", "pendidikan", "xn--mgbx4cd0ab", "%E6%95%99%E8%82%B2"]),
)
TOP_LEVEL = st.sampled_from(["my", "gov.my", "com", "org", "museum", "xn--mgbx4cd0ab"])
NAMED_HOSTS = st.builds("{}.{}".format, st.lists(HOST_LABELS, min_size=1, max_size=3).map(".".join), TOP_LEVEL)
IP_HOSTS = st.sampled_from(["127.0.0.1", "[::1]", "[2001:db8::7]", "[::ffff:10.0.0.1]", "[v1.registry]"])
URL_PATH_CHARACTERS = st.characters(codec="utf-8", exclude_categories=("Zs", "Zl", "Zp", "Cc"))
# Path segments with the punctuation RFC 3986 allows unencoded: sub-delimiters, `~`, `@` and `:`.
URL_PIECES = st.sampled_from(["laporan", "a;b=c,d", "'q'", "(1)*", "~user", "a@b:c", "$x!"])
URL_ENDS = st.sampled_from(["", "?x=1&y=%C3%BC", "?a=b/c?d", "#bab-2", "?q=AI#:~:text=risk"])


@st.composite
def urls(draw, max_size: int = URL_LENGTH) -> str:
    """Absolute http(s) URLs as the API accepts them: hosts by name (IDNs as `xn--`, percent-encoded) or IP
    literal, ports, paths with every character RFC 3986 allows, Malay, Tamil, Chinese and emoji percent-encoded;
    sometimes as long as allowed."""
    host = draw(st.one_of(NAMED_HOSTS, IP_HOSTS))
    port = draw(st.sampled_from(["", ":8080", ":443"]))
    path = draw(
        st.one_of(
            st.just(""),
            st.just("/"),
            st.lists(
                st.one_of(
                    URL_PIECES, st.text(URL_PATH_CHARACTERS, min_size=1, max_size=6).map(partial(quote, safe=""))
                ),
                min_size=1,
                max_size=4,
            ).map(lambda parts: "/" + "/".join(parts)),
        )
    )
    url = f"{draw(st.sampled_from(['http', 'https']))}://{host}{port}{path}{draw(URL_ENDS)}"
    if draw(st.integers(0, 5)) == 0:
        # A piece without `%`, so that cutting it never leaves half a percent-escape.
        url = (url + "/" + _repeated("ruang-ujian.", max_size))[: draw(st.integers(max_size - 2, max_size))]
    return url


@st.composite
def emails(draw) -> str:
    local = ".".join(
        draw(st.lists(st.sampled_from(["ahmad", "siti", "o'neil", "a+b", "x_y", "{z}", "0"]), min_size=1, max_size=4))
    )
    domain = ".".join(
        draw(st.lists(st.sampled_from(["kpm", "gov", "contoh", "a-b", "xn--mgbx4cd0ab"]), min_size=1, max_size=3))
    )
    return f"{local}@{domain}.{draw(st.sampled_from(['my', 'com', 'org']))}"


WEBSITE_LENGTH = cast(String, Agency.__table__.c.website.type).length or URL_LENGTH  # 500

DATES = st.dates(min_value=date(1900, 1, 1), max_value=date(2199, 12, 31))
# Figures as the schema bounds them: any finite double within ±1e15, negative zero and subnormals included.
FIGURES = st.floats(min_value=-1e15, max_value=1e15, allow_nan=False, allow_infinity=False)


def values(enum_class) -> st.SearchStrategy[str]:
    return st.sampled_from([member.value for member in enum_class])


def code_lists(terms) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(codes(terms)), max_size=4)


@st.composite
def date_pair(draw, start_name: str, end_name: str) -> dict:
    """Two dates of which the end is not before the start, either or both absent or null."""
    start, end = draw(optional(DATES)), draw(optional(DATES))
    if isinstance(start, date) and isinstance(end, date) and end < start:
        start, end = end, start
    return {
        start_name: start.isoformat() if isinstance(start, date) else start,
        end_name: end.isoformat() if isinstance(end, date) else end,
    }


@dataclass(frozen=True)
class AgencyRef:
    """An agency of the example, by index: its id is known only once it is created."""

    index: int


@st.composite
def partners(draw) -> dict:
    """A partner named by `name`, by `agency_id`, or by both; the other one null or absent."""
    named_by = draw(st.sampled_from(["name", "agency", "both"]))
    partner = {"role": draw(values(PartnerRole))}
    if named_by in ("name", "both"):
        partner["name"] = draw(required_texts(200))
    else:
        partner["name"] = draw(st.sampled_from([None, ABSENT, ""]))
    if named_by in ("agency", "both"):
        partner["agency_id"] = AgencyRef(draw(st.integers(0, 1)))
    else:
        partner["agency_id"] = draw(st.sampled_from([None, ABSENT]))
    return partner


@st.composite
def data_fields(draw) -> dict:
    """`data_categories`, and `personal_data` true whenever a category is personal."""
    categories = draw(optional(st.lists(values(DataCategory), max_size=len(DataCategory), unique=True), nullable=False))
    personal = draw(optional(st.booleans(), nullable=False))
    if categories is not ABSENT and cases_service.PERSONAL_CATEGORIES & set(categories):
        personal = True
    return {"data_categories": categories, "personal_data": personal}


@st.composite
def case_bodies(draw) -> dict:
    body = {
        "title": draw(required_texts(200)),
        "summary": draw(required_texts(2000)),
        "description": draw(optional(texts(LONG_TEXT))),
        "partners": draw(optional(st.lists(partners(), max_size=3), nullable=False)),
        "primary_sector": draw(st.sampled_from(codes(SECTORS))),
        "sectors": draw(optional(code_lists(SECTORS), nullable=False)),
        "capabilities": draw(optional(code_lists(CAPABILITIES), nullable=False)),
        "sandbox_type": draw(values(SandboxType)),
        **draw(date_pair("planned_start", "planned_end")),
        **draw(date_pair("actual_start", "actual_end")),
        "participants_count": draw(optional(st.integers(0, 100_000_000))),
        "participants_description": draw(optional(texts(500))),
        "locations": draw(
            optional(st.lists(st.from_regex(r"[A-Z]{2}(-[A-Z0-9]{1,3})?", fullmatch=True), max_size=4), nullable=False)
        ),
        "risk_tier": draw(optional(values(RiskTier))),
        **draw(data_fields()),
        "principles": draw(optional(code_lists(PRINCIPLES), nullable=False)),
        "regulatory_instruments": draw(
            optional(
                st.lists(
                    st.fixed_dictionaries(
                        {"name": required_texts(300), "treatment": values(Treatment)},
                        optional={"note": st.one_of(st.none(), texts(2000))},
                    ),
                    max_size=3,
                ),
                nullable=False,
            )
        ),
        "links": draw(
            optional(
                st.lists(
                    st.fixed_dictionaries({"title": required_texts(200), "url": urls(), "kind": values(LinkKind)}),
                    max_size=3,
                ),
                nullable=False,
            )
        ),
        "next_review_due": draw(optional(DATES.map(date.isoformat))),
        "contact": draw(
            optional(
                st.fixed_dictionaries(
                    {"name": required_texts(200)},
                    optional={"email": st.one_of(st.none(), emails()), "phone": st.one_of(st.none(), texts(40))},
                )
            )
        ),
    }
    if draw(st.booleans()):
        body["lead_agency_id"] = "own"  # an agency key may name its own agency
    return body


# Fields of a case that a PATCH changes together, so that the case stays consistent.
CASE_FIELD_GROUPS = (
    ("title",),
    ("summary",),
    ("description",),
    ("partners",),
    ("primary_sector",),
    ("sectors",),
    ("capabilities",),
    ("sandbox_type",),
    ("planned_start", "planned_end"),
    ("actual_start", "actual_end"),
    ("participants_count", "participants_description"),
    ("locations",),
    ("risk_tier",),
    ("data_categories", "personal_data"),
    ("principles",),
    ("regulatory_instruments",),
    ("links",),
    ("next_review_due",),
    ("contact",),
)


@st.composite
def case_patches(draw) -> dict:
    body = draw(case_bodies())
    groups = draw(st.lists(st.sampled_from(CASE_FIELD_GROUPS), min_size=1, max_size=6, unique=True))
    patch = {name: body[name] for group in groups for name in group if name in body}
    # A date left out keeps its value, which might contradict the other one: both are sent, null if not drawn.
    for start, end in (("planned_start", "planned_end"), ("actual_start", "actual_end")):
        if start in patch:
            patch[start], patch[end] = (None if patch[name] is ABSENT else patch[name] for name in (start, end))
    if "data_categories" in patch:
        categories = [] if patch["data_categories"] is ABSENT else patch["data_categories"]
        personal = patch["personal_data"] is True or bool(cases_service.PERSONAL_CATEGORIES & set(categories))
        patch["data_categories"], patch["personal_data"] = categories, personal
    return patch


@st.composite
def risk_bodies(draw) -> dict:
    domain = draw(st.sampled_from(codes(RISK_DOMAINS)))
    subdomains = [term.code for term in RISK_SUBDOMAINS if term.parent == domain]
    status = draw(optional(values(RiskStatus), nullable=False))
    note = draw(required_texts(LONG_TEXT)) if status == RiskStatus.MATERIALISED else draw(optional(texts(LONG_TEXT)))
    residual = draw(
        st.one_of(
            st.just((ABSENT, ABSENT)),
            st.just((None, None)),
            st.just((None, ABSENT)),
            st.tuples(st.integers(1, 5), st.integers(1, 5)),
        )
    )
    return {
        "title": draw(required_texts(200)),
        "description": draw(optional(texts(LONG_TEXT))),
        "domain": domain,
        "subdomain": draw(optional(st.sampled_from(subdomains))),
        "principle": draw(optional(st.sampled_from(codes(PRINCIPLES)))),
        "likelihood": draw(st.integers(1, 5)),
        "impact": draw(st.integers(1, 5)),
        "mitigation": draw(optional(texts(LONG_TEXT))),
        "residual_likelihood": residual[0],
        "residual_impact": residual[1],
        "status": status,
        "materialised_note": note,
        "owner": draw(optional(texts(200))),
    }


@st.composite
def outcome_bodies(draw) -> dict:
    kind = draw(values(OutcomeKind))
    figure = optional(FIGURES) if kind == OutcomeKind.QUANTITATIVE else st.sampled_from([None, ABSENT])
    return {
        "title": draw(required_texts(200)),
        "kind": kind,
        "unit": draw(optional(texts(50))),
        "baseline": draw(figure),
        "target": draw(figure),
        "actual": draw(figure),
        "direction": draw(optional(values(Direction))),
        "measured_on": draw(optional(DATES.map(date.isoformat))),
        "method": draw(values(Method)),
        "sample_size": draw(optional(st.integers(0, 1_000_000_000))),
        "source_url": draw(optional(urls())),
        "notes": draw(optional(texts(LONG_TEXT))),
    }


@st.composite
def lesson_plans(draw) -> dict:
    """A lesson; its evidence names outcomes and risks of its case by index, resolved once they exist."""
    evidence = draw(
        optional(
            st.fixed_dictionaries(
                {},
                optional={
                    "outcome_ids": st.sets(st.integers(0, 2), max_size=3),
                    "risk_ids": st.sets(st.integers(0, 2), max_size=3),
                    "urls": st.lists(urls(), max_size=3),
                },
            ),
            nullable=False,
        )
    )
    body = {
        "title": draw(required_texts(200)),
        "statement": draw(required_texts(LONG_TEXT)),
        "recommendation": draw(optional(texts(LONG_TEXT))),
        "kind": draw(values(LessonKind)),
        "applies_to_sectors": draw(optional(code_lists(SECTORS), nullable=False)),
        "conditions": draw(optional(texts(LONG_TEXT))),
        "principles": draw(optional(code_lists(PRINCIPLES), nullable=False)),
        "risk_domains": draw(optional(code_lists(RISK_DOMAINS), nullable=False)),
        "evidence": evidence,
        "transferability": draw(optional(values(Transferability), nullable=False)),
    }
    curation = draw(st.one_of(st.none(), st.tuples(values(Curation), optional(texts(2000)))))
    return {"body": body, "curation": curation}


# The lifecycles a case is taken along, each action with who takes it: the owning agency, NAIO, or either.
LIFECYCLES = {
    "draft": (),
    "submitted": ("submit",),
    "returned": ("submit", "return"),
    "rejected": ("submit", "reject"),
    "admitted": ("submit", "admit"),
    "active": ("submit", "admit", "start"),
    "suspended": ("submit", "admit", "start", "suspend"),
    "resumed": ("submit", "admit", "start", "suspend", "resume"),
    "exited": ("submit", "admit", "start", "exit"),
    "exited while suspended": ("submit", "admit", "start", "suspend", "exit"),
    "withdrawn": ("submit", "admit", "withdraw"),
}
BY_OWNER, BY_NAIO = {"submit"}, {"return", "admit", "reject", "suspend", "resume"}
NOTE_REQUIRED = {"return", "reject"}
STATUS_AFTER = {
    "submit": "submitted",
    "return": "draft",
    "admit": "admitted",
    "reject": "rejected",
    "start": "active",
    "suspend": "suspended",
    "resume": "active",
    "exit": "exited",
    "withdraw": "withdrawn",
}


@st.composite
def lifecycle_steps(draw) -> list[dict]:
    steps = []
    # Three times in four, a lifecycle that ends where the case may be published.
    publishable = [
        name
        for name, actions in LIFECYCLES.items()
        if actions and STATUS_AFTER[actions[-1]] in cases_service.PUBLISHABLE_STATUSES
    ]
    lifecycle = draw(st.one_of(st.sampled_from(publishable), st.sampled_from(list(LIFECYCLES))))
    for action in LIFECYCLES[lifecycle]:
        step = {"action": action}
        step["note"] = draw(required_texts(2000)) if action in NOTE_REQUIRED else draw(optional(texts(2000)))
        if action == "exit":
            step["exit"] = draw(
                st.fixed_dictionaries(
                    {
                        "decision": values(ExitDecision),
                        "summary": required_texts(LONG_TEXT),
                        "decided_on": DATES.map(date.isoformat),
                    },
                    optional={"report_url": st.one_of(st.none(), urls())},
                )
            )
        by_naio = action in BY_NAIO or (action not in BY_OWNER and draw(st.booleans()))
        steps.append({"body": step, "by_naio": by_naio})
    return steps


@st.composite
def case_plans(draw) -> dict:
    return {
        "agency": draw(st.integers(0, 1)),
        "body": draw(case_bodies()),
        "risks": draw(st.lists(risk_bodies(), max_size=3)),
        "outcomes": draw(st.lists(outcome_bodies(), max_size=3)),
        "lessons": draw(st.lists(lesson_plans(), max_size=2)),
        "lifecycle": draw(lifecycle_steps()),
        # When NAIO publishes it (if its status allows): as soon as it is admitted, or at the end.
        "publish": draw(st.sampled_from(["end", "early", None])),
        "publication_note": draw(optional(texts(2000))),
        "unpublish": draw(st.booleans()),
        "patch": draw(st.one_of(st.none(), case_patches())),
    }


@st.composite
def agency_bodies(draw) -> dict:
    return {
        "slug": draw(st.from_regex(r"[a-z0-9]{1,12}(-[a-z0-9]{1,6}){0,2}", fullmatch=True)),
        "name": draw(required_texts(200)),
        "acronym": draw(optional(texts(20))),
        "kind": draw(values(AgencyKind)),
        "country": draw(optional(st.from_regex(r"[A-Z]{2}", fullmatch=True), nullable=False)),
        # The schema allows 2000 characters, the column 500: PostgreSQL refuses a longer one (422) and SQLite
        # stores it. A finding of this test, about writes, not representations: kept within the column here.
        "website": draw(optional(urls(WEBSITE_LENGTH))),
    }


@st.composite
def scenarios(draw) -> dict:
    return {
        "agencies": [draw(agency_bodies()), draw(agency_bodies())],
        "second_under_first": draw(st.booleans()),
        "cases": draw(st.lists(case_plans(), min_size=2, max_size=2)),
        "adoptions": draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "lesson": st.tuples(st.integers(0, 1), st.integers(0, 1)),  # (case, lesson) by index
                        "by_naio": st.booleans(),
                        "body": st.fixed_dictionaries(
                            {
                                "note": optional(texts(LONG_TEXT)),
                                "result": optional(values(AdoptionResult), nullable=False),
                            }
                        ),
                        "result_later": st.one_of(st.none(), values(AdoptionResult)),
                    }
                ),
                min_size=1,
                max_size=3,
            )
        ),
        "agency_patch": draw(
            st.one_of(
                st.none(),
                st.fixed_dictionaries(
                    {},
                    optional={
                        "name": required_texts(200),
                        "acronym": st.one_of(st.none(), texts(20)),
                        "website": st.one_of(st.none(), urls(WEBSITE_LENGTH)),
                        "parent_id": st.none(),
                    },
                ),
            )
        ),
    }


# --------------------------------------------------------------------------------------------------------
# Comparing an answer with a dump.


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else f"{text[:80]}…({len(text)} characters)…{text[-30:]}"


def differences(answer, dumped, path: str = "") -> list[str]:
    """Where the API's JSON (parsed) differs from the dump, as `path: API ..., dump ...` lines."""
    where = path or "(whole)"
    if isinstance(dumped, dict) and isinstance(answer, dict):
        found = []
        for name in [*dumped, *(name for name in answer if name not in dumped)]:
            if name not in answer:
                found.append(f"{path}.{name}: absent from the API's answer; dump {_short(dumped[name])}")
            elif name not in dumped:
                found.append(f"{path}.{name}: API {_short(answer[name])}; absent from the dump")
            else:
                found.extend(differences(answer[name], dumped[name], f"{path}.{name}"))
        return found
    if isinstance(dumped, list) and isinstance(answer, list):
        if len(answer) != len(dumped):
            return [f"{where}: API has {len(answer)} items {_short(answer)}; dump {len(dumped)} {_short(dumped)}"]
        return [
            line
            for i, (a, d) in enumerate(zip(answer, dumped, strict=True))
            for line in differences(a, d, f"{path}[{i}]")
        ]
    if isinstance(answer, bool) or isinstance(dumped, bool):
        same = type(answer) is type(dumped) and answer == dumped
    elif isinstance(answer, int | float) and isinstance(dumped, int | float):
        same = answer == dumped  # JSON has one kind of number: `5` and `5.0` are the same value
    else:
        same = type(answer) is type(dumped) and answer == dumped
    if same:
        return []
    if isinstance(answer, str) and isinstance(dumped, str):
        at = next(
            (i for i, (a, d) in enumerate(zip(answer, dumped, strict=False)) if a != d), min(len(answer), len(dumped))
        )
        return [
            f"{where}: strings differ at character {at}: API {answer[max(0, at - 10) : at + 20]!r} "
            f"({len(answer)} characters), dump {dumped[max(0, at - 10) : at + 20]!r} ({len(dumped)} characters)"
        ]
    return [f"{where}: API {answer!r}, dump {dumped!r}"]


@dataclass
class Read:
    """One resource as one route answered it, to compare with the dump of its row by `schema`."""

    route: str
    schema: type[ma.Schema]
    model: type
    id: object
    answer: dict
    annotations: tuple[str, ...] = ()


class Rows:
    """The rows as the ORM loads them now, in a session of the test's transaction, deferred columns loaded.

    Open only between requests: its session's savepoint must not enclose theirs."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.dumps: dict[tuple, dict] = {}

    def get(self, model, key):
        key = int(key) if model is Event else uuid.UUID(str(key))
        row = self.session.get(model, key, options=[undefer("*")])
        assert row is not None, f"no {model.__name__} {key}"
        return row

    def dump(self, schema_class: type[ma.Schema], model, key) -> dict:
        if (schema_class, model, str(key)) not in self.dumps:
            row = self.get(model, key)
            self.dumps[schema_class, model, str(key)] = schema_class().dump(row)
        return self.dumps[schema_class, model, str(key)]

    def mismatches(self, read: Read) -> list[str]:
        answer = dict(read.answer)
        missing = [name for name in read.annotations if name not in answer]
        for name in read.annotations:
            answer.pop(name, None)
        found = [f".{name}: the annotation is missing" for name in missing]
        found += differences(answer, self.dump(read.schema, read.model, read.id))
        header = f"GET {read.route} — {read.model.__name__} {read.id} vs {read.schema.__name__}().dump()"
        return [f"{header}: {line}" for line in found]


@contextmanager
def rows(app: Flask) -> Iterator[Rows]:
    with app.app_context():
        session = db.new_session(write=False)
        try:
            yield Rows(session)
        finally:
            session.close()


@contextmanager
def independent_example(connection: Connection) -> Iterator[None]:
    """A savepoint of the test's transaction, rolled back after the example; its stored case documents are
    checked before."""
    savepoint = connection.begin_nested()
    try:
        yield
        assert cases_with_stale_documents(connection) == [], "a write left stored case documents out of step"
    finally:
        savepoint.rollback()


class Anonymous:
    """A caller without a key."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)


# The largest request body (413 beyond, as api-conventions.md says). Bodies are sent as UTF-8 JSON, as clients
# send them; a body whose long texts would pass it gets them halved, longest first, until it fits.
BODY_LIMIT = TestConfig.MAX_CONTENT_LENGTH


def _encoded(body) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def _longest_text(value, path=()) -> tuple[int, tuple]:
    if isinstance(value, str):
        return len(value), path
    members = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    return max((_longest_text(member, (*path, name)) for name, member in members), default=(0, path))


def within_limit(body: dict) -> dict:
    body = json.loads(_encoded(body))
    while len(_encoded(body)) > BODY_LIMIT:
        length, path = _longest_text(body)
        container = body
        for name in path[:-1]:
            container = container[name]
        container[path[-1]] = container[path[-1]][: length // 2]
    return body


def send(actor, method: str, url: str, body: dict, etag: str | None = None):
    data = _encoded(within_limit(body))
    if method == "PATCH":
        return actor.patch(url, data=data, content_type="application/json", etag=etag)
    return actor.post(url, data=data, content_type="application/json")


def edit(actor, url: str, body: dict):
    """GET the resource for its ETag, then PATCH it."""
    return send(actor, "PATCH", url, body, etag=answer(actor, url).headers["ETag"])


def answer(actor, url: str):
    response = actor.get(url)
    assert response.status_code == 200, (url, response.status_code, response.get_json())
    return response


def every_item(actor, url: str) -> dict[str, dict]:
    """The items of every page of a list, by id."""
    items: dict[str, dict] = {}
    page = 1
    while True:
        response = answer(actor, f"{url}{'&' if '?' in url else '?'}page_size=100&page={page}")
        items.update((str(item["id"]), item) for item in response.get_json())
        following = json.loads(response.headers["X-Pagination"]).get("next_page")
        if not following:
            return items
        page = following


def exported(actor, resource: str) -> dict[str, dict]:
    response = answer(actor, f"/api/v1/exports/{resource}?format=ndjson")
    # Lines end with `\n` only: `splitlines` would also split at characters that JSON strings hold as they are.
    lines = response.get_data(as_text=True).split("\n")
    return {item["id"]: item for item in map(json.loads, filter(None, lines))}


_tokens = itertools.count()


def search_word() -> str:
    """A word of letters found only in this example's titles."""
    return "sbxq" + "".join(chr(ord("a") + int(digit)) for digit in f"{next(_tokens):06d}")


# --------------------------------------------------------------------------------------------------------
# A scenario played through the API.


@dataclass
class CaseRecord:
    id: str
    agency: int  # the index of its lead agency in the example
    risks: list[str]
    outcomes: list[str]
    lessons: list[str]
    published: bool = False


class Scenario:
    def __init__(self, app: Flask, client: FlaskClient, connection: Connection, admin: Actor, naio: Actor) -> None:
        self.app = app
        self.client = client
        self.admin = admin
        self.naio = naio
        self.anonymous = Anonymous(client)
        self.word = search_word()
        self.agencies: list[dict] = []
        self.owners: list[Actor] = []
        self.cases: list[CaseRecord] = []
        self.adoptions: list[tuple[str, str]] = []  # (lesson id, adoption id)
        self.adopters: dict[str, str] = {}  # adoption id: adopting case id
        self.problems: list[str] = []
        last_event = connection.scalar(select(func.max(Event.id)))
        self.feed_cursor = last_event or 0

    # Writes -----------------------------------------------------------------------------------------------

    def post(self, actor, url: str, body: dict, status: int = 201) -> dict:
        response = send(actor, "POST", url, body)
        assert response.status_code == status, (url, body, response.status_code, response.get_json())
        return response.get_json()

    def resolve(self, value):
        if isinstance(value, AgencyRef):
            return self.agencies[value.index]["id"]
        if isinstance(value, dict):
            return {name: self.resolve(member) for name, member in value.items()}
        if isinstance(value, list):
            return [self.resolve(member) for member in value]
        return value

    def titled(self, body: dict) -> dict:
        """The body with the example's search word first in its title."""
        return {**body, "title": f"{self.word} {body['title']}"[:200]}

    def create_agencies(self, plans: list[dict], second_under_first: bool) -> None:
        for index, plan in enumerate(plans):
            body = clean({**plan, "slug": f"{plan['slug']}-{self.word}{index}"})
            if index == 1 and second_under_first:
                body["parent_id"] = self.agencies[0]["id"]
            agency = self.post(self.admin, "/api/v1/agencies", body)
            self.agencies.append(agency)
            self.owners.append(Actor(self.client, make_key(Role.AGENCY, agency["slug"])))

    def create_case(self, plan: dict) -> CaseRecord:
        owner = self.owners[plan["agency"]]
        body = self.titled(self.resolve(clean(plan["body"])))
        if body.get("lead_agency_id") == "own":
            body["lead_agency_id"] = self.agencies[plan["agency"]]["id"]
        case = self.post(owner, "/api/v1/cases", body)
        record = CaseRecord(case["id"], plan["agency"], [], [], [])
        for risk in plan["risks"]:
            created = self.post(owner, f"/api/v1/cases/{record.id}/risks", self.titled(clean(risk)))
            record.risks.append(created["id"])
        for outcome in plan["outcomes"]:
            created = self.post(owner, f"/api/v1/cases/{record.id}/outcomes", clean(outcome))
            record.outcomes.append(created["id"])
        for lesson in plan["lessons"]:
            body = self.titled(clean(lesson["body"]))
            if "evidence" in body:
                evidence = dict(body["evidence"])
                for name, ids in (("outcome_ids", record.outcomes), ("risk_ids", record.risks)):
                    if name in evidence:
                        evidence[name] = [ids[i] for i in sorted(evidence[name]) if i < len(ids)]
                body["evidence"] = evidence
            created = self.post(owner, f"/api/v1/cases/{record.id}/lessons", body)
            record.lessons.append(created["id"])
            if lesson["curation"] is not None:
                curation, note = lesson["curation"]
                url = f"/api/v1/lessons/{created['id']}/curation"
                self.post(self.naio, url, clean({"curation": curation, "note": note}), status=200)
        self.cases.append(record)
        return record

    def adopt(self, plan: dict) -> None:
        """The other case adopts one of the case's lessons, if it has any."""
        case_index, lesson_index = plan["lesson"]
        lessons = self.cases[case_index].lessons
        if not lessons:
            return
        lesson_id, adopter = lessons[lesson_index % len(lessons)], self.cases[1 - case_index]
        same_agency = adopter.agency == self.cases[case_index].agency
        actor = self.owners[adopter.agency] if same_agency and not plan["by_naio"] else self.naio
        body = clean({**plan["body"], "adopting_case_id": adopter.id})
        response = send(actor, "POST", f"/api/v1/lessons/{lesson_id}/adoptions", body)
        if response.status_code == 409:  # that case adopted the lesson already
            return
        assert response.status_code == 201, (body, response.get_json())
        event("an adoption")
        adoption = response.get_json()
        self.adoptions.append((lesson_id, adoption["id"]))
        self.adopters[adoption["id"]] = adopter.id
        if plan["result_later"] is not None:
            url = f"/api/v1/lessons/{lesson_id}/adoptions/{adoption['id']}"
            edited = edit(actor, url, {"result": plan["result_later"]})
            assert edited.status_code == 200, edited.get_json()

    def take_along(self, record: CaseRecord, plan: dict) -> None:
        """The case's lifecycle, its publication (its snapshot checked at once), and its later changes."""
        owner = self.owners[record.agency]
        publishable = False
        for step in plan["lifecycle"]:
            actor = self.naio if step["by_naio"] else owner
            self.post(actor, f"/api/v1/cases/{record.id}/transitions", clean(step["body"]), status=200)
            action = step["body"]["action"]
            event(f"a case took the action {action}")
            publishable = STATUS_AFTER[action] in cases_service.PUBLISHABLE_STATUSES
            if plan["publish"] == "early" and action == "admit":
                self.publish(record, plan)
        if plan["publish"] == "end" and publishable and not record.published:
            self.publish(record, plan)
        if plan["unpublish"] and record.published:
            self.post(self.naio, f"/api/v1/cases/{record.id}/publication", {"published": False}, status=200)
            record.published = False
        if plan["patch"] is not None:
            patch = self.resolve(clean(plan["patch"]))
            if "title" in patch:
                patch = self.titled(patch)
            event(f"a case changed by PATCH ({'published' if record.published else 'unpublished'})")
            edited = edit(owner, f"/api/v1/cases/{record.id}", patch)
            assert edited.status_code == 200, (patch, edited.get_json())

    def publish(self, record: CaseRecord, plan: dict) -> None:
        body = clean({"published": True, "note": plan["publication_note"]})
        self.post(self.naio, f"/api/v1/cases/{record.id}/publication", body, status=200)
        record.published = True
        event(f"a publication's snapshot checked ({plan['publish']})")
        events = answer(self.naio, f"/api/v1/changes?after={self.feed_cursor}&limit=1000").get_json()["events"]
        publications = [e for e in events if e["action"] == "publish" and e["entity_id"] == record.id]
        assert publications, "no `publish` event in the change feed"
        self.check_snapshot(record, publications[-1]["snapshot"])

    def check_snapshot(self, record: CaseRecord, snapshot: dict) -> None:
        """The `publish` event's snapshot: the case as anyone reads it, its risks, outcomes and lessons, and
        the adoptions between it and other published cases, each as its schema dumps its row now."""
        route = f"/api/v1/changes (snapshot of the publication of case {record.id})"
        with rows(self.app) as now:
            self.problems += now.mismatches(Read(route, PublicCaseSchema, Case, record.id, snapshot["case"]))
            children = (
                ("risks", Risk, RiskSchema),
                ("outcomes", Outcome, OutcomeSchema),
                ("lessons", Lesson, LessonSchema),
            )
            for name, model, schema_class in children:
                statement = (
                    select(model.id).where(model.case_id == uuid.UUID(record.id)).order_by(model.created_at, model.id)
                )
                self.listed_in_order(
                    now, route, name, schema_class, model, now.session.scalars(statement), snapshot[name]
                )
            lesson_case = select(Lesson.case_id).where(Lesson.id == LessonAdoption.lesson_id).scalar_subquery()
            published = select(Case.id).where(Case.published)
            involved = (
                select(LessonAdoption.id)
                .where(
                    or_(LessonAdoption.adopting_case_id == uuid.UUID(record.id), lesson_case == uuid.UUID(record.id)),
                    LessonAdoption.adopting_case_id.in_(published),
                    lesson_case.in_(published),
                )
                .order_by(LessonAdoption.created_at, LessonAdoption.id)
            )
            self.listed_in_order(
                now,
                route,
                "adoptions",
                AdoptionSchema,
                LessonAdoption,
                now.session.scalars(involved),
                snapshot["adoptions"],
            )

    def listed_in_order(self, now: Rows, route: str, name: str, schema_class, model, ids, items: list[dict]) -> None:
        expected = [str(key) for key in ids]
        if [item.get("id") for item in items] != expected:
            self.problems.append(f"{route}: `{name}` lists {[item.get('id') for item in items]}, expected {expected}")
            return
        for key, item in zip(expected, items, strict=True):
            self.problems += now.mismatches(Read(f"{route} `{name}`", schema_class, model, key, item))

    def patch_agency(self, patch: dict | None) -> None:
        if patch is not None:
            edited = edit(self.admin, f"/api/v1/agencies/{self.agencies[-1]['id']}", patch)
            assert edited.status_code == 200, (patch, edited.get_json())

    # Reads ------------------------------------------------------------------------------------------------

    def read_everything(self) -> list[Read]:
        """Every read route, for every record of the example: the answers, to compare with the dumps."""
        reads: list[Read] = []

        def item(actor, url: str, schema, model, key) -> None:
            reads.append(Read(url, schema, model, key, answer(actor, url).get_json()))

        def listed(route: str, items: dict[str, dict], schema, model, keys, annotations=()) -> None:
            for key in keys:
                if key not in items:
                    self.problems.append(f"GET {route}: {model.__name__} {key} is not listed")
                else:
                    reads.append(Read(route, schema, model, key, items[key], annotations))

        published = [case for case in self.cases if case.published]
        # As NAIO (every case) and without a key (the published ones): each case, and every list.
        for actor, caller, cases in (
            (self.naio, Caller(role=Role.NAIO), self.cases),
            (self.anonymous, ANONYMOUS, published),
        ):
            case_schema = cases_service.schema_for(caller)
            case_ids = [case.id for case in cases]
            for case in cases:
                item(actor, f"/api/v1/cases/{case.id}", case_schema, Case, case.id)
            listed("/api/v1/cases", every_item(actor, "/api/v1/cases"), case_schema, Case, case_ids)
            route = f"/api/v1/cases?q={self.word}"  # a word of their titles
            listed(route, every_item(actor, route), case_schema, Case, case_ids, ("match",))
            listed("/api/v1/exports/cases?format=ndjson", exported(actor, "cases"), case_schema, Case, case_ids)
            # Each case's lists of risks (searched too), outcomes and lessons.
            for case in cases:
                base = f"/api/v1/cases/{case.id}"
                listed(f"{base}/risks", every_item(actor, f"{base}/risks"), RiskSchema, Risk, case.risks)
                route = f"{base}/risks?q={self.word}"
                listed(route, every_item(actor, route), RiskSchema, Risk, case.risks, ("match",))
                listed(f"{base}/outcomes", every_item(actor, f"{base}/outcomes"), OutcomeSchema, Outcome, case.outcomes)
                listed(f"{base}/lessons", every_item(actor, f"{base}/lessons"), LessonSchema, Lesson, case.lessons)
            # Across cases: the lists, searched, ranked for a sector, and the exports.
            risks = [key for case in cases for key in case.risks]
            outcomes = [key for case in cases for key in case.outcomes]
            lessons = [key for case in cases for key in case.lessons]
            listed("/api/v1/risks", every_item(actor, "/api/v1/risks"), RiskInCaseSchema, Risk, risks)
            route = f"/api/v1/risks?q={self.word}"
            listed(route, every_item(actor, route), RiskInCaseSchema, Risk, risks, ("match",))
            listed("/api/v1/exports/risks?format=ndjson", exported(actor, "risks"), RiskInCaseSchema, Risk, risks)
            listed("/api/v1/outcomes", every_item(actor, "/api/v1/outcomes"), OutcomeInCaseSchema, Outcome, outcomes)
            route = "/api/v1/exports/outcomes?format=ndjson"
            listed(route, exported(actor, "outcomes"), OutcomeInCaseSchema, Outcome, outcomes)
            listed("/api/v1/lessons", every_item(actor, "/api/v1/lessons"), LessonSchema, Lesson, lessons)
            route = f"/api/v1/lessons?q={self.word}"
            listed(route, every_item(actor, route), LessonSchema, Lesson, lessons, ("match",))
            route = "/api/v1/exports/lessons?format=ndjson"
            listed(route, exported(actor, "lessons"), LessonInCaseSchema, Lesson, lessons)
            for sector, ranked in self.ranked_lessons(cases).items():
                event("lessons ranked for a sector")
                route = f"/api/v1/lessons?for_sector={sector}"
                listed(route, every_item(actor, route), LessonSchema, Lesson, ranked, ("ranking",))
            # Each lesson's adoptions by the cases the caller sees.
            seen = {case.id for case in cases}
            for lesson_id in lessons:
                adoptions = [
                    key for lesson, key in self.adoptions if lesson == lesson_id and self.adopter_of(key) in seen
                ]
                route = f"/api/v1/lessons/{lesson_id}/adoptions"
                listed(route, every_item(actor, route), AdoptionSchema, LessonAdoption, adoptions)
            # The change feed: every event of the example that the caller may read.
            event_schema = events_service.schema_for(caller)
            feed = answer(actor, f"/api/v1/changes?after={self.feed_cursor}&limit=1000").get_json()["events"]
            reads += [Read("/api/v1/changes", event_schema, Event, change["id"], change) for change in feed]
        # Each risk, outcome, lesson and adoption once (the same schema for every caller): without a key if its
        # case is published, else as NAIO; each case's history as NAIO; each case as its owning agency reads it.
        for case in self.cases:
            actor = self.anonymous if case.published else self.naio
            base = f"/api/v1/cases/{case.id}"
            for key in case.risks:
                item(actor, f"{base}/risks/{key}", RiskSchema, Risk, key)
            for key in case.outcomes:
                item(actor, f"{base}/outcomes/{key}", OutcomeSchema, Outcome, key)
            for key in case.lessons:
                item(actor, f"{base}/lessons/{key}", LessonSchema, Lesson, key)
            route = f"{base}/history"
            history = every_item(self.naio, route)
            reads += [Read(route, EventSchema, Event, key, change) for key, change in history.items()]
            owner = self.owners[case.agency]
            caller = Caller(role=Role.AGENCY, agency_id=uuid.UUID(self.agencies[case.agency]["id"]))
            item(owner, base, cases_service.schema_for(caller), Case, case.id)
        for lesson_id, key in self.adoptions:
            visible = {self.adopter_of(key), self.case_of_lesson(lesson_id)} <= {case.id for case in published}
            actor = self.anonymous if visible else self.naio
            item(actor, f"/api/v1/lessons/{lesson_id}/adoptions/{key}", AdoptionSchema, LessonAdoption, key)
        # Agencies: each one, and the list.
        for agency in self.agencies:
            item(self.anonymous, f"/api/v1/agencies/{agency['id']}", AgencySchema, Agency, agency["id"])
        agencies = every_item(self.anonymous, "/api/v1/agencies")
        listed("/api/v1/agencies", agencies, AgencySchema, Agency, [agency["id"] for agency in self.agencies])
        return reads

    def case_of_lesson(self, lesson_id: str) -> str:
        return next(case.id for case in self.cases if lesson_id in case.lessons)

    def adopter_of(self, adoption_id: str) -> str:
        return self.adopters[adoption_id]

    def ranked_lessons(self, cases: list[CaseRecord]) -> dict[str, list[str]]:
        """For each sector that some lessons apply to, learned elsewhere and not retired: those lessons."""
        ranked: dict[str, list[str]] = {}
        with rows(self.app) as now:
            for case in cases:
                origin = now.get(Case, case.id).primary_sector
                for key in case.lessons:
                    lesson = now.get(Lesson, key)
                    if lesson.curation == Curation.RETIRED:
                        continue
                    for sector in lesson.applies_to_sectors:
                        if sector != origin:
                            ranked.setdefault(sector, []).append(key)
        return ranked

    def check(self, reads: list[Read]) -> None:
        with rows(self.app) as now:
            for read in reads:
                self.problems += now.mismatches(read)
        assert not self.problems, "\n".join(self.problems)


@settings(SETTINGS, max_examples=SCENARIOS)
@given(plan=scenarios())
def test_every_read_route_answers_the_dump_of_the_row(app, client, connection, admin, naio, plan):
    """Cases, risks, outcomes, lessons, adoptions, agencies and events: each read route, each caller."""
    with independent_example(connection):
        scenario = Scenario(app, client, connection, admin, naio)
        scenario.create_agencies(plan["agencies"], plan["second_under_first"])
        records = [scenario.create_case(case_plan) for case_plan in plan["cases"]]
        for adoption in plan["adoptions"]:
            scenario.adopt(adoption)
        for record, case_plan in zip(records, plan["cases"], strict=True):
            scenario.take_along(record, case_plan)
        scenario.patch_agency(plan["agency_patch"])
        scenario.check(scenario.read_everything())


# --------------------------------------------------------------------------------------------------------
# API keys.

TIME_ZONES = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(-timedelta(hours=9, minutes=30))])


@st.composite
def key_plans(draw) -> dict:
    return {
        "name": draw(required_texts(200)),
        "role": draw(values(Role)),
        "expires_in": draw(optional(st.timedeltas(timedelta(minutes=5), timedelta(days=3 * 365 - 2)), nullable=False)),
        "time_zone": draw(TIME_ZONES),
        "used": draw(st.booleans()),
        "then": draw(st.sampled_from([None, "rotate", "revoke"])),
        "overlap_hours": draw(st.integers(0, 30 * 24)),
        "note": draw(optional(texts(2000))),
    }


@settings(SETTINGS, max_examples=KEY_SCENARIOS)
@given(plans=st.lists(key_plans(), min_size=1, max_size=3))
def test_keys_read_as_their_dump(app, client, connection, admin, plans):
    """Each key as `GET /api/v1/keys/{id}` and the list answer it, created, used, rotated or revoked; and the
    events of those writes in the change feed."""
    with independent_example(connection):
        word = search_word()
        feed_cursor = connection.scalar(select(func.max(Event.id))) or 0
        key_ids = []
        for index, plan in enumerate(plans):
            body = {"name": plan["name"], "role": plan["role"]}
            if plan["role"] == Role.AGENCY:
                agency = admin.post(
                    "/api/v1/agencies", json={"slug": f"keys-{word}-{index}", "name": "Keyholder", "kind": "ministry"}
                )
                assert agency.status_code == 201, agency.get_json()
                body["agency_id"] = agency.get_json()["id"]
            if plan["expires_in"] is not ABSENT:
                body["expires_at"] = (datetime.now(UTC) + plan["expires_in"]).astimezone(plan["time_zone"]).isoformat()
            created = send(admin, "POST", "/api/v1/keys", body)
            assert created.status_code == 201, (body, created.get_json())
            key = created.get_json()
            key_ids.append(key["id"])
            if plan["used"]:
                assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {key['key']}"}).status_code == 200
            if plan["then"] == "rotate":
                rotated = admin.post(
                    f"/api/v1/keys/{key['id']}/rotation", json={"overlap_hours": plan["overlap_hours"]}
                )
                assert rotated.status_code == 201, rotated.get_json()
                key_ids.append(rotated.get_json()["id"])
            elif plan["then"] == "revoke":
                revoked = send(admin, "POST", f"/api/v1/keys/{key['id']}/revocation", clean({"note": plan["note"]}))
                assert revoked.status_code == 200, revoked.get_json()
        listed = every_item(admin, "/api/v1/keys")
        reads = [
            Read(f"/api/v1/keys/{key}", ApiKeySchema, ApiKey, key, answer(admin, f"/api/v1/keys/{key}").get_json())
            for key in key_ids
        ]
        problems = [f"GET /api/v1/keys: key {key} is not listed" for key in key_ids if key not in listed]
        feed = answer(admin, f"/api/v1/changes?after={feed_cursor}&limit=1000").get_json()["events"]
        reads += [Read("/api/v1/changes", EventSchema, Event, change["id"], change) for change in feed]
        reads += [Read("/api/v1/keys", ApiKeySchema, ApiKey, key, listed[key]) for key in key_ids if key in listed]
        with rows(app) as now:
            for read in reads:
                problems += now.mismatches(read)
        assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------------------------
# Taxonomies: fixed data, so no examples to generate; each one read whole.


def test_taxonomies_read_as_their_dump(app, client):
    problems = []
    for name, taxonomy in taxonomies_service.TAXONOMIES.items():
        answered = answer(Anonymous(client), f"/api/v1/taxonomies/{name}").get_json()
        with rows(app) as now:
            terms = now.session.scalars(select(taxonomy.model).order_by(taxonomy.model.position)).all()
            subdomains = now.session.scalars(select(RiskSubdomain).order_by(RiskSubdomain.position)).all()
            expected = {"name": name, "title": taxonomy.title, "source": taxonomy.source, "terms": terms}
            if name == "risk_domains":
                expected["terms"] = [
                    {
                        "code": term.code,
                        "label": term.label,
                        "description": term.description,
                        "subdomains": [sub for sub in subdomains if sub.domain_code == term.code],
                    }
                    for term in terms
                ]
            dumped = TaxonomySchema().dump(expected)
        problems += [f"GET /api/v1/taxonomies/{name}: {line}" for line in differences(answered, dumped)]
    assert not problems, "\n".join(problems)
