"""Every model, imported once so that the metadata (and Alembic) sees all tables."""

from sandbox_api.agencies.models import Agency
from sandbox_api.cases.models import Case, CasePartner, CaseSector, ReferenceCounter
from sandbox_api.http.idempotency import IdempotencyRecord
from sandbox_api.keys.models import ApiKey
from sandbox_api.lessons.models import Lesson, LessonAdoption
from sandbox_api.outcomes.models import Outcome
from sandbox_api.policy.audit import Event
from sandbox_api.risks.models import Risk
from sandbox_api.taxonomies.models import Capability, Principle, RiskDomain, RiskSubdomain, Sector

__all__ = [
    "Agency",
    "ApiKey",
    "Capability",
    "Case",
    "CasePartner",
    "CaseSector",
    "Event",
    "IdempotencyRecord",
    "Lesson",
    "LessonAdoption",
    "Outcome",
    "Principle",
    "ReferenceCounter",
    "Risk",
    "RiskDomain",
    "RiskSubdomain",
    "Sector",
]
