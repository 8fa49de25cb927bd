"""The demo registry that `make run` loads: two public pilots and clearly labelled illustrative ones."""

import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox_api.agencies import service as agencies_service
from sandbox_api.agencies.models import Agency
from sandbox_api.agencies.schemas import AgencySchema
from sandbox_api.cases import service as cases_service
from sandbox_api.cases.children import ChildResource
from sandbox_api.cases.models import Case, LifecycleAction
from sandbox_api.cases.schemas import CaseSchema
from sandbox_api.events import service as events_service
from sandbox_api.lessons import service as lessons_service
from sandbox_api.lessons.models import Curation, Lesson, LessonAdoption
from sandbox_api.lessons.schemas import AdoptionSchema
from sandbox_api.outcomes import service as outcomes_service
from sandbox_api.policy.auth import Caller, Role
from sandbox_api.risks import service as risks_service

# The demo data is written in the API's input format, except that every `..._id` names an agency by
# its slug, or a risk or outcome by its key within the same demo case; the loader swaps in the ids.
# Public facts come only from the sources named in `links` and `source_url`. Everything else says
# "Illustrative" in its text, and no figure is given for the public pilots beyond those sources.

AI_AT_WORK_PRESS_RELEASE = (
    "https://digital.gov.my/en-GB/siaran/Kerajaan-Malaysia-Tingkatkan-Kemahiran-200-%22Duta-Perubahan%22-"
    "Dalam-AI-Generatif-Untuk-Mendorong-Transformasi-Perkhidmatan-Awam"
)

AGENCIES: list[dict] = [
    {
        "slug": "digital",
        "name": "Ministry of Digital",
        "acronym": "KD",
        "kind": "ministry",
        "website": "https://digital.gov.my",
    },
    {
        "slug": "naio",
        "name": "National Artificial Intelligence Office",
        "acronym": "NAIO",
        "kind": "department",
        "parent_id": "digital",
    },
    {
        "slug": "jdn",
        "name": "National Digital Department (Jabatan Digital Negara)",
        "acronym": "JDN",
        "kind": "department",
        "parent_id": "digital",
    },
    {
        "slug": "moe",
        "name": "Ministry of Education",
        "acronym": "MOE",
        "kind": "ministry",
        "website": "https://www.moe.gov.my",
    },
    {
        "slug": "moh",
        "name": "Ministry of Health",
        "acronym": "MOH",
        "kind": "ministry",
        "website": "https://www.moh.gov.my",
    },
    {
        "slug": "bnm",
        "name": "Bank Negara Malaysia",
        "acronym": "BNM",
        "kind": "statutory_body",
        "website": "https://www.bnm.gov.my",
    },
    {"slug": "kpkm", "name": "Ministry of Agriculture and Food Security", "acronym": "KPKM", "kind": "ministry"},
    {
        "slug": "jpa",
        "name": "Public Service Department",
        "acronym": "JPA",
        "kind": "department",
        "website": "https://www.jpa.gov.my",
    },
]

ILLUSTRATIVE_PILOT = (
    "Illustrative: this pilot was invented for the demo registry to show the shape of the data. "
    "It is not a real pilot of the agency named as its lead, and none of its figures are real."
)

EDUCATION_GPT: dict = {
    "case": {
        "title": "Education GPT",
        "summary": "Education flagship project applying generative AI to overcrowded classrooms and limited "
        "teaching resources.",
        "description": "A national flagship project of the Ministry of Education. The risks, outcomes and lessons "
        "recorded here, and the choice of capabilities and principles, are Illustrative: written for the demo "
        "registry, not taken from a public source.",
        "lead_agency_id": "moe",
        "primary_sector": "education",
        "capabilities": ["generative_ai", "language"],
        "sandbox_type": "flagship_project",
        "locations": ["MY"],
        "principles": ["human_benefit", "inclusiveness", "reliability_safety_control"],
    },
    "risks": {
        "wrong_content": {
            "title": "Illustrative: inaccurate teaching material",
            "description": "Illustrative: generated exercises or explanations contain factual errors that reach "
            "pupils.",
            "domain": "3",
            "subdomain": "3.1",
            "principle": "reliability_safety_control",
            "likelihood": 3,
            "impact": 4,
            "mitigation": "Illustrative: a teacher reviews every generated item before it is used in class.",
            "residual_likelihood": 2,
            "residual_impact": 3,
            "status": "mitigating",
            "owner": "Illustrative: curriculum lead",
        },
        "language_gap": {
            "title": "Illustrative: weaker results in some languages of instruction",
            "description": "Illustrative: answers in Bahasa Malaysia, Chinese or Tamil are less accurate than in "
            "English, so some schools benefit less.",
            "domain": "1",
            "subdomain": "1.3",
            "principle": "fairness",
            "likelihood": 3,
            "impact": 3,
            "mitigation": "Illustrative: evaluate each language of instruction separately before wider use.",
            "status": "identified",
        },
        "pupil_data": {
            "title": "Illustrative: pupils' personal data in prompts",
            "domain": "2",
            "subdomain": "2.1",
            "principle": "privacy_security",
            "likelihood": 2,
            "impact": 4,
            "mitigation": "Illustrative: guidance and training forbid entering pupils' names or records.",
            "residual_likelihood": 1,
            "residual_impact": 4,
            "status": "mitigated",
        },
    },
    "outcomes": {
        "teacher_view": {
            "title": "Teachers' view of support for lesson preparation",
            "kind": "qualitative",
            "method": "expert_review",
            "notes": "Illustrative: a panel of teachers reviewed generated lesson material; no figure is given "
            "because none is public.",
        },
    },
    "lessons": {
        "teacher_review": {
            "title": "Keep a professional between the model and the public",
            "statement": "Illustrative: generated material was useful as a first draft, and its errors were "
            "caught because a teacher approved every item before it reached pupils.",
            "recommendation": "Treat generated content as a draft that a qualified professional approves, and "
            "record who approved it.",
            "kind": "good_practice",
            "applies_to_sectors": ["education", "health", "public_administration", "law_justice"],
            "conditions": "Illustrative: holds where a qualified reviewer is available and the volume of drafts "
            "is small enough to review properly.",
            "principles": ["reliability_safety_control", "accountability"],
            "risk_domains": ["3", "5"],
            "evidence": {"outcome_ids": ["teacher_view"], "risk_ids": ["wrong_content"]},
            "transferability": "high",
        },
        "test_each_language": {
            "title": "Evaluate each language of service separately",
            "statement": "Illustrative: quality measured in English overstated quality in the other languages "
            "of instruction.",
            "recommendation": "Set acceptance tests per language before a multilingual rollout.",
            "kind": "technical_insight",
            "applies_to_sectors": ["education", "health", "public_administration"],
            "principles": ["fairness", "inclusiveness"],
            "risk_domains": ["1"],
            "evidence": {"risk_ids": ["language_gap"]},
            "transferability": "high",
        },
    },
}

AI_AT_WORK: dict = {
    "case": {
        "title": "AI at Work 2.0",
        "summary": "Generative AI tools (Google Workspace with Gemini) for public officers, led by the Ministry of "
        "Digital with Google Cloud. In the pilot phase 270 officers were trained, and more than 90 % reported "
        "better work quality and efficiency.",
        "description": "The figures come from the Ministry of Digital's press release listed under `links`, and "
        "describe the pilot phase, with officers of the National Digital Department (JDN), on which AI at Work 2.0 "
        "builds. The risks and lessons recorded here, and the choice of principles, are Illustrative.",
        "lead_agency_id": "digital",
        "partners": [
            {"name": "Google Cloud", "role": "technology_provider"},
            {"agency_id": "jdn", "role": "participant"},
        ],
        "primary_sector": "public_administration",
        "capabilities": ["generative_ai", "language"],
        "sandbox_type": "operational_pilot",
        "participants_count": 270,
        "participants_description": "public officers (pilot phase)",
        "locations": ["MY"],
        "principles": ["human_benefit", "privacy_security", "accountability"],
        "links": [
            {
                "title": "Ministry of Digital press release, 12 March 2025: 200 change ambassadors trained "
                "under AI at Work 2.0",
                "url": AI_AT_WORK_PRESS_RELEASE,
                "kind": "source",
            }
        ],
    },
    "risks": {
        "confidential_prompts": {
            "title": "Illustrative: confidential government information in prompts",
            "description": "Illustrative: officers paste classified or personal information into a generative AI tool.",
            "domain": "2",
            "subdomain": "2.1",
            "principle": "privacy_security",
            "likelihood": 3,
            "impact": 4,
            "mitigation": "Illustrative: training on what may and may not be entered, with examples from "
            "officers' own work.",
            "residual_likelihood": 2,
            "residual_impact": 4,
            "status": "mitigating",
        },
        "overreliance": {
            "title": "Illustrative: officers rely on unchecked summaries",
            "description": "Illustrative: a generated summary or minute is sent on without being read against "
            "its source.",
            "domain": "5",
            "subdomain": "5.1",
            "principle": "accountability",
            "likelihood": 3,
            "impact": 3,
            "mitigation": "Illustrative: training stresses that the officer remains accountable for what they send.",
            "status": "mitigating",
        },
        "fabrication": {
            "title": "Illustrative: fabricated facts in drafted documents",
            "domain": "3",
            "subdomain": "3.1",
            "principle": "transparency",
            "likelihood": 3,
            "impact": 3,
            "status": "identified",
        },
    },
    "outcomes": {
        "trained": {
            "title": "Officers trained",
            "kind": "quantitative",
            "unit": "officers",
            "actual": 270,
            "direction": "increase",
            "method": "administrative_data",
            "source_url": AI_AT_WORK_PRESS_RELEASE,
            "notes": "Public officers in the pilot phase on which AI at Work 2.0 builds, as reported by the "
            "Ministry of Digital.",
        },
        "quality": {
            "title": "Share reporting better work quality",
            "kind": "quantitative",
            "unit": "%",
            "target": 90,
            "actual": 90,
            "direction": "increase",
            "method": "survey",
            "source_url": AI_AT_WORK_PRESS_RELEASE,
            "notes": "Reported as more than 90 % of the pilot's officers, who said their work quality and "
            "efficiency improved. The actual 90 is the reported floor, not a measured value: the true share is "
            "higher. Illustrative target: the source reports a result, not a target.",
        },
    },
    "lessons": {
        "train_with_tools": {
            "title": "Give the tools together with hands-on training",
            "statement": "Illustrative: officers who were shown tasks from their own work used the tools more "
            "and more safely than those given access alone.",
            "recommendation": "Roll out generative AI tools with short hands-on sessions built on the "
            "participants' real tasks, and train in-house champions to carry on.",
            "kind": "process_insight",
            "applies_to_sectors": ["public_administration", "education", "health", "agriculture", "finance"],
            "conditions": "Illustrative: holds for general-purpose assistants used in office work.",
            "principles": ["human_benefit", "accountability"],
            "risk_domains": ["2", "5"],
            "evidence": {
                "outcome_ids": ["trained", "quality"],
                "risk_ids": ["overreliance", "confidential_prompts"],
                "urls": [AI_AT_WORK_PRESS_RELEASE],
            },
            "transferability": "high",
        },
    },
}

HEALTH_PILOT: dict = {
    "case": {
        "title": "Discharge summary drafting (illustrative)",
        "summary": "Illustrative pilot: a language model drafts hospital discharge summaries from the clinical "
        "record for a doctor to check and sign.",
        "description": ILLUSTRATIVE_PILOT,
        "lead_agency_id": "moh",
        "primary_sector": "health",
        "capabilities": ["generative_ai", "language"],
        "sandbox_type": "operational_pilot",
        "planned_start": "2025-03-01",
        "planned_end": "2025-12-31",
        "actual_start": "2025-04-01",
        "participants_count": 40,
        "participants_description": "Illustrative: doctors in two hospital wards",
        "locations": ["MY-10", "MY-14"],
        "risk_tier": "high",
        "personal_data": True,
        "data_categories": ["sensitive_personal"],
        "principles": ["privacy_security", "reliability_safety_control", "accountability"],
        "regulatory_instruments": [
            {
                "name": "Personal Data Protection Act 2010",
                "treatment": "complied",
                "note": "Illustrative: records never leave the hospital network.",
            }
        ],
    },
    "risks": {
        "omissions": {
            "title": "Illustrative: medication changes left out of the summary",
            "domain": "7",
            "subdomain": "7.3",
            "principle": "reliability_safety_control",
            "likelihood": 3,
            "impact": 5,
            "mitigation": "Illustrative: a medication checklist the doctor ticks before signing.",
            "residual_likelihood": 2,
            "residual_impact": 4,
            "status": "mitigating",
            "owner": "Illustrative: ward clinical lead",
        },
        "rubber_stamp": {
            "title": "Illustrative: drafts signed without being read",
            "domain": "5",
            "subdomain": "5.1",
            "principle": "accountability",
            "likelihood": 3,
            "impact": 4,
            "status": "materialised",
            "materialised_note": "Illustrative: an audit found some summaries signed within seconds of being "
            "opened; sign-off now needs the checklist.",
        },
        "data_leak": {
            "title": "Illustrative: patient records leave the hospital network",
            "domain": "2",
            "subdomain": "2.1",
            "principle": "privacy_security",
            "likelihood": 2,
            "impact": 5,
            "mitigation": "Illustrative: the model runs on hospital servers.",
            "residual_likelihood": 1,
            "residual_impact": 5,
            "status": "mitigated",
        },
    },
    "outcomes": {
        "drafting_time": {
            "title": "Minutes to complete a discharge summary",
            "kind": "quantitative",
            "unit": "minutes",
            "baseline": 25,
            "target": 12,
            "actual": 14,
            "direction": "decrease",
            "measured_on": "2025-09-30",
            "method": "observational_study",
            "sample_size": 600,
            "notes": "Illustrative figures.",
        },
        "corrections": {
            "title": "Drafts needing clinical correction",
            "kind": "quantitative",
            "unit": "%",
            "target": 10,
            "actual": 8,
            "direction": "decrease",
            "measured_on": "2025-09-30",
            "method": "expert_review",
            "sample_size": 120,
            "notes": "Illustrative figures.",
        },
    },
    "lessons": {
        "audit_sign_off": {
            "title": "Audit the human sign-off, not only the model's output",
            "statement": "Illustrative: review by a professional protects only if the review really happens; "
            "sign-off times showed when it did not.",
            "recommendation": "Log how long reviewers spend and sample signed items for audit.",
            "kind": "pitfall",
            "applies_to_sectors": ["health", "finance", "public_administration", "law_justice"],
            "principles": ["accountability", "reliability_safety_control"],
            "risk_domains": ["5"],
            "evidence": {"outcome_ids": ["corrections"], "risk_ids": ["rubber_stamp"]},
            "transferability": "medium",
        },
    },
}

FINANCE_PILOT: dict = {
    "case": {
        "title": "Explainable credit scoring for microenterprises (illustrative)",
        "summary": "Illustrative pilot: lenders test a credit-scoring model for microenterprises with little "
        "credit history, under regulatory supervision, giving each applicant the main reasons for the decision.",
        "description": ILLUSTRATIVE_PILOT,
        "lead_agency_id": "bnm",
        "primary_sector": "finance",
        "sectors": ["trade_industry"],
        "capabilities": ["decision_support"],
        "sandbox_type": "regulatory_sandbox",
        "planned_start": "2025-01-15",
        "planned_end": "2026-01-14",
        "actual_start": "2025-02-01",
        "participants_count": 3,
        "participants_description": "Illustrative: three lenders",
        "locations": ["MY"],
        "risk_tier": "high",
        "personal_data": True,
        "data_categories": ["personal"],
        "principles": ["fairness", "transparency", "accountability"],
        "regulatory_instruments": [
            {
                "name": "National Guidelines on AI Governance and Ethics (AIGE)",
                "treatment": "complied",
                "note": "Illustrative: the explanation given to applicants follows the transparency principle.",
            },
            {
                "name": "Personal Data Protection Act 2010",
                "treatment": "clarified",
                "note": "Illustrative: which alternative data may be used with applicants' consent.",
            },
        ],
    },
    "risks": {
        "thin_file": {
            "title": "Illustrative: applicants with thin credit files scored unfairly",
            "domain": "1",
            "subdomain": "1.1",
            "principle": "fairness",
            "likelihood": 4,
            "impact": 4,
            "mitigation": "Illustrative: approval rates compared across groups every month.",
            "residual_likelihood": 3,
            "residual_impact": 3,
            "status": "mitigating",
        },
        "reasons_mismatch": {
            "title": "Illustrative: reasons given to applicants do not reflect the model",
            "domain": "7",
            "subdomain": "7.4",
            "principle": "transparency",
            "likelihood": 3,
            "impact": 3,
            "mitigation": "Illustrative: reason codes tested against the model before release.",
            "status": "mitigated",
        },
    },
    "outcomes": {
        "approval_gap": {
            "title": "Approval-rate gap between thin-file and established applicants",
            "kind": "quantitative",
            "unit": "percentage points",
            "baseline": 12,
            "target": 5,
            "actual": 6,
            "direction": "decrease",
            "measured_on": "2025-08-31",
            "method": "controlled_experiment",
            "sample_size": 2000,
            "notes": "Illustrative figures.",
        },
    },
    "lessons": {
        "agree_explanations": {
            "title": "Agree the form of explanations with the regulator before testing",
            "statement": "Illustrative: deciding early what an applicant is told avoided rebuilding the "
            "reason codes mid-pilot.",
            "recommendation": "Settle the explanation format with the supervising authority at admission.",
            "kind": "regulatory_insight",
            "applies_to_sectors": ["finance", "social_protection", "health", "public_administration"],
            "principles": ["transparency"],
            "risk_domains": ["7"],
            "evidence": {"outcome_ids": ["approval_gap"], "risk_ids": ["reasons_mismatch"]},
            "transferability": "medium",
        },
    },
}

AGRICULTURE_PILOT: dict = {
    "case": {
        "title": "Crop pest detection from phone photos (illustrative)",
        "summary": "Illustrative pilot: farmers photograph damaged crops and an image model names the likely pest "
        "or disease, with advice reviewed by extension officers.",
        "description": ILLUSTRATIVE_PILOT,
        "lead_agency_id": "kpkm",
        "primary_sector": "agriculture",
        "sectors": ["environment"],
        "capabilities": ["computer_vision", "decision_support"],
        "sandbox_type": "testbed",
        "planned_start": "2025-05-01",
        "planned_end": "2026-04-30",
        "participants_count": 300,
        "participants_description": "Illustrative: smallholder farmers",
        "locations": ["MY-02", "MY-13"],
        "risk_tier": "limited",
        "principles": ["reliability_safety_control", "inclusiveness", "human_benefit"],
    },
    "risks": {
        "robustness": {
            "title": "Illustrative: poor accuracy on varieties and lighting absent from the training images",
            "domain": "7",
            "subdomain": "7.3",
            "principle": "reliability_safety_control",
            "likelihood": 4,
            "impact": 3,
            "mitigation": "Illustrative: images collected in each pilot region before use.",
            "status": "mitigating",
        },
        "pesticide_overuse": {
            "title": "Illustrative: wrong advice leads to pesticide overuse",
            "domain": "6",
            "subdomain": "6.6",
            "principle": "human_benefit",
            "likelihood": 2,
            "impact": 4,
            "mitigation": "Illustrative: treatment advice is confirmed by an extension officer.",
            "residual_likelihood": 1,
            "residual_impact": 4,
            "status": "mitigated",
        },
    },
    "outcomes": {
        "accuracy": {
            "title": "Pests and diseases correctly identified",
            "kind": "quantitative",
            "unit": "%",
            "target": 85,
            "actual": 78,
            "direction": "increase",
            "method": "expert_review",
            "sample_size": 500,
            "notes": "Illustrative figures.",
        },
        "retention": {
            "title": "Farmers still using the app after three months",
            "kind": "quantitative",
            "unit": "%",
            "target": 50,
            "actual": 61,
            "direction": "increase",
            "method": "survey",
            "sample_size": 300,
            "notes": "Illustrative figures.",
        },
    },
    "lessons": {
        "regional_data": {
            "title": "Collect field data in every region before scaling",
            "statement": "Illustrative: accuracy measured in one region did not hold in another with different "
            "crop varieties and light.",
            "recommendation": "Budget for local data collection and a per-region acceptance test in each new area.",
            "kind": "technical_insight",
            "applies_to_sectors": ["agriculture", "health", "environment", "public_safety"],
            "principles": ["reliability_safety_control", "inclusiveness"],
            "risk_domains": ["7", "1"],
            "evidence": {"outcome_ids": ["accuracy"], "risk_ids": ["robustness"]},
            "transferability": "high",
        },
    },
}

PUBLIC_SERVICE_PILOT: dict = {
    "case": {
        "title": "Civil-service HR assistant in Bahasa Malaysia (illustrative)",
        "summary": "Illustrative pilot: an assistant answers civil servants' questions on leave, pay and "
        "postings in Bahasa Malaysia, citing the service circulars it relies on.",
        "description": ILLUSTRATIVE_PILOT,
        "lead_agency_id": "jpa",
        "primary_sector": "public_administration",
        "capabilities": ["generative_ai", "language"],
        "sandbox_type": "operational_pilot",
        "planned_start": "2025-06-01",
        "planned_end": "2025-11-30",
        "participants_count": 1500,
        "participants_description": "Illustrative: civil servants in three departments",
        "locations": ["MY-16"],
        "risk_tier": "limited",
        "personal_data": True,
        "data_categories": ["personal"],
        "principles": ["transparency", "reliability_safety_control", "inclusiveness"],
    },
    "risks": {
        "wrong_rules": {
            "title": "Illustrative: wrong answers about pay and leave rules",
            "domain": "3",
            "subdomain": "3.1",
            "principle": "reliability_safety_control",
            "likelihood": 3,
            "impact": 3,
            "mitigation": "Illustrative: answers only from indexed circulars, each answer citing its source.",
            "residual_likelihood": 2,
            "residual_impact": 2,
            "status": "mitigated",
        },
    },
    "outcomes": {
        "self_served": {
            "title": "Questions answered without escalation to HR staff",
            "kind": "quantitative",
            "unit": "%",
            "target": 60,
            "actual": 64,
            "direction": "increase",
            "method": "administrative_data",
            "sample_size": 8000,
            "notes": "Illustrative figures.",
        },
    },
    "lessons": {
        "cite_sources": {
            "title": "Answer only from cited official documents",
            "statement": "Illustrative: requiring a citation for every answer cut wrong answers and let staff "
            "check them quickly.",
            "recommendation": "Restrict assistants to an indexed body of official documents and show the source "
            "with each answer.",
            "kind": "good_practice",
            "applies_to_sectors": ["public_administration", "education", "health", "finance", "law_justice"],
            "principles": ["transparency", "reliability_safety_control"],
            "risk_domains": ["3"],
            "evidence": {"outcome_ids": ["self_served"], "risk_ids": ["wrong_rules"]},
            "transferability": "high",
        },
    },
}

CASES: list[dict] = [
    EDUCATION_GPT,
    AI_AT_WORK,
    HEALTH_PILOT,
    FINANCE_PILOT,
    AGRICULTURE_PILOT,
    PUBLIC_SERVICE_PILOT,
]

# Where each demo pilot stands: the lifecycle actions taken, and whether NAIO published it. For the
# illustrative pilots these stages are illustrative too; one stays a draft and one awaits review, so
# that the demo shows what callers without a key do not see.
STAGES: dict[str, tuple[tuple[LifecycleAction, ...], bool]] = {
    EDUCATION_GPT["case"]["title"]: ((LifecycleAction.SUBMIT, LifecycleAction.ADMIT, LifecycleAction.START), True),
    AI_AT_WORK["case"]["title"]: ((LifecycleAction.SUBMIT, LifecycleAction.ADMIT, LifecycleAction.START), True),
    HEALTH_PILOT["case"]["title"]: ((LifecycleAction.SUBMIT, LifecycleAction.ADMIT, LifecycleAction.START), True),
    AGRICULTURE_PILOT["case"]["title"]: ((LifecycleAction.SUBMIT, LifecycleAction.ADMIT), True),
    FINANCE_PILOT["case"]["title"]: ((LifecycleAction.SUBMIT,), False),
    PUBLIC_SERVICE_PILOT["case"]["title"]: ((), False),
}

# Each adoption names its lesson by (case title, lesson title) and its adopting case by title.
ADOPTIONS: list[dict] = [
    {
        "lesson": ("Education GPT", "Keep a professional between the model and the public"),
        "adoption": {
            "adopting_case_id": HEALTH_PILOT["case"]["title"],
            "note": "Illustrative: adapted as 'a clinician signs every draft'; no unreviewed summary reached a "
            "patient.",
            "result": "worked",
        },
    },
    {
        "lesson": ("Education GPT", "Evaluate each language of service separately"),
        "adoption": {
            "adopting_case_id": PUBLIC_SERVICE_PILOT["case"]["title"],
            "note": "Illustrative: acceptance tests in Bahasa Malaysia and in English were set separately.",
            "result": "worked",
        },
    },
    {
        "lesson": ("AI at Work 2.0", "Give the tools together with hands-on training"),
        "adoption": {
            "adopting_case_id": AGRICULTURE_PILOT["case"]["title"],
            "note": "Illustrative: extension officers trained as local champions who coach farmers.",
            "result": "applied",
        },
    },
    {
        "lesson": (HEALTH_PILOT["case"]["title"], "Audit the human sign-off, not only the model's output"),
        "adoption": {
            "adopting_case_id": FINANCE_PILOT["case"]["title"],
            "note": "Illustrative: credit officers' approvals and overrides to be sampled for audit every month.",
            "result": "planned",
        },
    },
]

# Lessons NAIO endorsed as good practice to scale, by (case title, lesson title), with its note.
ENDORSEMENTS: list[tuple[str, str, str]] = [
    (
        "Education GPT",
        "Keep a professional between the model and the public",
        "Illustrative: endorsed after it worked in the health pilot that adopted it.",
    ),
    (
        "AI at Work 2.0",
        "Give the tools together with hands-on training",
        "Illustrative: endorsed on the training figures the Ministry of Digital published.",
    ),
]

# Demo data is entered as NAIO would enter it through the API; an agency's own steps, as that agency.
DEMO_CALLER = Caller(role=Role.NAIO)
EVIDENCE_REFERENCES = ("outcome_ids", "risk_ids")

# Each kind of child: its key in a demo case, the resource, its service's create function and that function's
# input argument. In this order, so that lessons can cite the risks and outcomes recorded before them.
CHILDREN: tuple[tuple[str, ChildResource, Callable, str], ...] = (
    ("risks", risks_service.RISKS, risks_service.create, "risk_in"),
    ("outcomes", outcomes_service.OUTCOMES, outcomes_service.create, "outcome_in"),
    ("lessons", lessons_service.LESSONS, lessons_service.create, "lesson_in"),
)


def _with_evidence_ids(data: dict, ids: dict[str, str]) -> dict:
    """The data with its evidence's risk and outcome keys replaced by their ids."""
    evidence = data.get("evidence")
    if evidence is None:
        return data
    resolved = {field: [ids[key] for key in evidence.get(field, [])] for field in EVIDENCE_REFERENCES}
    return {**data, "evidence": {**evidence, **resolved}}


def _load_agencies(session: Session) -> dict[str, uuid.UUID]:
    """Create the demo agencies that are missing; return the ids of all of them by slug."""
    slugs = [agency["slug"] for agency in AGENCIES]
    ids: dict[str, uuid.UUID] = dict(
        session.execute(select(Agency.slug, Agency.id).where(Agency.slug.in_(slugs))).all()
    )
    for data in AGENCIES:
        if data["slug"] in ids:
            continue
        if "parent_id" in data:
            data = {**data, "parent_id": str(ids[data["parent_id"]])}
        agency = agencies_service.create(session=session, agency_in=AgencySchema().load(data))
        after = agencies_service.representation(session=session, agency_id=agency.id)
        agencies_service.record(session, agency_id=agency.id, action="create", before=None, after=after)
        ids[agency.slug] = agency.id
    return ids


def _load_case(session: Session, demo: dict, agency_ids: dict[str, uuid.UUID]) -> None:
    data = {**demo["case"], "lead_agency_id": str(agency_ids[demo["case"]["lead_agency_id"]])}
    if "partners" in data:
        data["partners"] = [
            {**partner, "agency_id": str(agency_ids[partner["agency_id"]])} if "agency_id" in partner else partner
            for partner in data["partners"]
        ]
    case = cases_service.create(session=session, case_in=CaseSchema().load(data), caller=DEMO_CALLER)
    after = cases_service.representation(session=session, case_id=case.id, caller=DEMO_CALLER)
    cases_service.record(session, case=case, action="create", before=None, after=after)
    ids: dict[str, str] = {}
    for field, resource, create, argument in CHILDREN:
        for key, child_data in demo.get(field, {}).items():
            child_in = resource.schema_class().load(_with_evidence_ids(child_data, ids))
            child = create(session=session, case=case, **{argument: child_in})
            resource.written(
                session=session, case=case, child_id=child.id, caller=DEMO_CALLER, action="create", before=None
            )
            ids[key] = str(child.id)
    actions, published = STAGES[case.title]
    owner = Caller(role=Role.AGENCY, agency_id=case.lead_agency_id)
    for action in actions:
        caller = owner if cases_service.TRANSITIONS[action].by_owner else DEMO_CALLER
        before = cases_service.representation(session=session, case_id=case.id, caller=DEMO_CALLER)
        cases_service.transition(session=session, case=case, action=action, caller=caller, exit_in=None, note=None)
        after = cases_service.representation(session=session, case_id=case.id, caller=DEMO_CALLER)
        cases_service.record(session, case=case, action=action.value, before=before, after=after)
    if published:
        before = cases_service.representation(session=session, case_id=case.id, caller=DEMO_CALLER)
        cases_service.set_published(session=session, case=case, published=True)
        after = cases_service.representation(session=session, case_id=case.id, caller=DEMO_CALLER)
        snapshot = events_service.publication_snapshot(session=session, case_id=case.id)
        cases_service.record(session, case=case, action="publish", before=before, after=after, snapshot=snapshot)


def _load_adoptions(session: Session) -> None:
    """Record each demo adoption whose lesson and adopting case exist and which is not yet recorded."""
    for demo in ADOPTIONS:
        case_title, lesson_title = demo["lesson"]
        lesson_id = session.scalar(
            select(Lesson.id)
            .join(Case, Case.id == Lesson.case_id)
            .where(Case.title == case_title, Lesson.title == lesson_title)
        )
        adopting_case_id = session.scalar(select(Case.id).where(Case.title == demo["adoption"]["adopting_case_id"]))
        if lesson_id is None or adopting_case_id is None:
            continue
        recorded = select(LessonAdoption.id).where(
            LessonAdoption.lesson_id == lesson_id, LessonAdoption.adopting_case_id == adopting_case_id
        )
        if session.scalar(recorded) is not None:
            continue
        adoption_in = AdoptionSchema().load({**demo["adoption"], "adopting_case_id": str(adopting_case_id)})
        lesson = lessons_service.get(session=session, lesson_id=lesson_id, caller=DEMO_CALLER)
        adoption, adopting_case = lessons_service.adopt(
            session=session, lesson=lesson, adoption_in=adoption_in, caller=DEMO_CALLER
        )
        after = lessons_service.adoption_representation(
            session=session, lesson_id=lesson_id, adoption_id=adoption.id, caller=DEMO_CALLER
        )
        lessons_service.record_adoption(
            session, adoption=adoption, adopting_case=adopting_case, action="create", before=None, after=after
        )


def _load_endorsements(session: Session) -> None:
    """Endorse each demo lesson that exists and is still only proposed."""
    for case_title, lesson_title, note in ENDORSEMENTS:
        lesson = session.scalar(
            select(Lesson)
            .join(Case, Case.id == Lesson.case_id)
            .where(Case.title == case_title, Lesson.title == lesson_title, Lesson.curation == Curation.PROPOSED)
        )
        if lesson is None:
            continue
        before = lessons_service.LESSONS.representation(
            session=session, case_id=lesson.case_id, child_id=lesson.id, caller=DEMO_CALLER
        )
        lessons_service.curate(session=session, lesson=lesson, curation=Curation.ENDORSED)
        after = lessons_service.LESSONS.representation(
            session=session, case_id=lesson.case_id, child_id=lesson.id, caller=DEMO_CALLER
        )
        lessons_service.record(session, lesson=lesson, action="curate", before=before, after=after, note=note)


def load(*, session: Session, if_empty: bool = False) -> int:
    """Load the demo registry through the API's schemas and services; return how many cases it added.

    Running it again adds nothing: agencies are recognised by slug, cases by title. With `if_empty`,
    it adds nothing at all to a registry that already holds a case.
    """
    if if_empty and session.scalar(select(Case.id).limit(1)) is not None:
        return 0
    agency_ids = _load_agencies(session)
    titles = [demo["case"]["title"] for demo in CASES]
    present = set(session.scalars(select(Case.title).where(Case.title.in_(titles))))
    added = [demo for demo in CASES if demo["case"]["title"] not in present]
    for demo in added:
        _load_case(session, demo, agency_ids)
    _load_adoptions(session)
    _load_endorsements(session)
    return len(added)
