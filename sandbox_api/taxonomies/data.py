"""The taxonomies' terms, with their sources; the migrations load the same terms into the database."""

from typing import NamedTuple


class TermData(NamedTuple):
    code: str
    label: str
    description: str | None = None
    parent: str | None = None


SECTORS = [
    TermData("education", "Education"),
    TermData("health", "Health"),
    TermData("finance", "Finance"),
    TermData("agriculture", "Agriculture"),
    TermData("public_administration", "Public administration"),
    TermData("communications_media", "Communications and media"),
    TermData("transport_logistics", "Transport and logistics"),
    TermData("energy_utilities", "Energy and utilities"),
    TermData("environment", "Environment"),
    TermData("public_safety", "Public safety"),
    TermData("social_protection", "Social protection"),
    TermData("trade_industry", "Trade and industry"),
    TermData("tourism_culture", "Tourism and culture"),
    TermData("housing_local_government", "Housing and local government"),
    TermData("law_justice", "Law and justice"),
]

CAPABILITIES = [
    TermData("generative_ai", "Generative AI"),
    TermData("language", "Language processing"),
    TermData("speech", "Speech"),
    TermData("computer_vision", "Computer vision"),
    TermData("forecasting", "Forecasting"),
    TermData("recommendation", "Recommendation"),
    TermData("optimisation_planning", "Optimisation and planning"),
    TermData("anomaly_detection", "Anomaly detection"),
    TermData("robotics_automation", "Robotics and automation"),
    TermData("decision_support", "Decision support"),
    TermData("other", "Other"),
]

# Malaysia's National Guidelines on AI Governance and Ethics (AIGE), MOSTI, 2024.
PRINCIPLES = [
    TermData("fairness", "Fairness"),
    TermData("reliability_safety_control", "Reliability, safety and control"),
    TermData("privacy_security", "Privacy and security"),
    TermData("inclusiveness", "Inclusiveness"),
    TermData("transparency", "Transparency"),
    TermData("accountability", "Accountability"),
    TermData("human_benefit", "Pursuit of human benefit and happiness"),
]

# MIT AI Risk Repository, domain taxonomy (v3, 2025, with subdomain 7.6 multi-agent risks).
RISK_DOMAINS = [
    TermData("1", "Discrimination and toxicity"),
    TermData("2", "Privacy and security"),
    TermData("3", "Misinformation"),
    TermData("4", "Malicious actors and misuse"),
    TermData("5", "Human-computer interaction"),
    TermData("6", "Socioeconomic and environmental harms"),
    TermData("7", "AI system safety, failures and limitations"),
]

RISK_SUBDOMAINS = [
    TermData("1.1", "Unfair discrimination and misrepresentation", parent="1"),
    TermData("1.2", "Exposure to toxic content", parent="1"),
    TermData("1.3", "Unequal performance across groups", parent="1"),
    TermData(
        "2.1", "Compromise of privacy by obtaining, leaking or correctly inferring sensitive information", parent="2"
    ),
    TermData("2.2", "AI system security vulnerabilities and attacks", parent="2"),
    TermData("3.1", "False or misleading information", parent="3"),
    TermData("3.2", "Pollution of information ecosystem and loss of consensus reality", parent="3"),
    TermData("4.1", "Disinformation, surveillance, and influence at scale", parent="4"),
    TermData("4.2", "Cyberattacks, weapon development or use, and mass harm", parent="4"),
    TermData("4.3", "Fraud, scams, and targeted manipulation", parent="4"),
    TermData("5.1", "Overreliance and unsafe use", parent="5"),
    TermData("5.2", "Loss of human agency and autonomy", parent="5"),
    TermData("6.1", "Power centralization and unfair distribution of benefits", parent="6"),
    TermData("6.2", "Increased inequality and decline in employment quality", parent="6"),
    TermData("6.3", "Economic and cultural devaluation of human effort", parent="6"),
    TermData("6.4", "Competitive dynamics", parent="6"),
    TermData("6.5", "Governance failure", parent="6"),
    TermData("6.6", "Environmental harm", parent="6"),
    TermData("7.1", "AI pursuing its own goals in conflict with human goals or values", parent="7"),
    TermData("7.2", "AI possessing dangerous capabilities", parent="7"),
    TermData("7.3", "Lack of capability or robustness", parent="7"),
    TermData("7.4", "Lack of transparency or interpretability", parent="7"),
    TermData("7.5", "AI welfare and rights", parent="7"),
    TermData("7.6", "Multi-agent risks", parent="7"),
]


def codes(terms: list[TermData]) -> list[str]:
    return [term.code for term in terms]
