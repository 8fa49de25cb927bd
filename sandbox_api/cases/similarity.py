"""How alike two cases are: the classifications and distinctive words they share, weighed, with the shared
terms as reasons."""

import uuid

from sqlalchemy import (
    Integer,
    ScalarSelect,
    Select,
    String,
    Text,
    cast,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from sandbox_api.cases import service as cases_service
from sandbox_api.cases.models import Case, CaseCapability, CasePrinciple, CaseSector
from sandbox_api.policy.auth import Caller
from sandbox_api.risks.models import Risk
from sandbox_api.storage import search
from sandbox_api.storage.sql import json_array_of, json_object, key
from sandbox_api.storage.stop_words import ENGLISH_STOP_WORDS

# Points per shared term. A capability says most about what a pilot does; a risk subdomain met by both
# says they ran into the same problem; sectors are shared by many unrelated pilots; principles are few;
# a distinctive word of the case's title or summary found in the other's text says they are described alike.
WEIGHTS = {"capabilities": 3, "risk_subdomains": 2, "sectors": 2, "principles": 1, "words": 1}
# Similar cases are a ranking, not a listing: only the best are ranked and counted.
MAX_SIMILAR = 100
# Text similarity: the case's title and summary give the candidate words (at most this many, in order, of at
# least MIN_WORD_LENGTH letters, English stop words left out); those found in at least one other case the
# caller may see, and in at most 1 in COMMON_WORD_SHARE of those cases and never more than MAX_WORD_CASES,
# are distinctive, and the rarest MAX_WORDS of them are compared.
MAX_CANDIDATE_WORDS = 40
MIN_WORD_LENGTH = 3
MAX_WORDS = 10
MAX_WORD_CASES = 1000
COMMON_WORD_SHARE = 10


# Per kind of term held in a link table: its case column and its code column.
LINKS = {
    "capabilities": (CaseCapability.case_id, CaseCapability.capability_code),
    "sectors": (CaseSector.case_id, CaseSector.sector_code),
    "principles": (CasePrinciple.case_id, CasePrinciple.principle_code),
}


def _target_codes(case_column, code_column, target_id: uuid.UUID) -> Select:
    return select(code_column).where(case_column == target_id, code_column.is_not(None))


def _word_condition(session: Session, word: str):
    return search.matching(cases_service.SEARCH_INDEX, search.parse(word), session=session)


def distinctive_words(session: Session, target: Case, caller: Caller) -> list[str]:
    """The words of the case's title and summary that say what sets it apart (see MAX_WORDS above), rarest
    first. English stop words are left out on both databases (PostgreSQL's index leaves them out too).

    Only cases the caller may see are counted, so that what others may not see cannot change the words.
    Each count stops at MAX_WORD_CASES + 1 matches, and the count of cases at MAX_WORD_CASES times
    COMMON_WORD_SHARE, so one statement of bounded cost decides.
    """
    words = [
        word
        for word in search.words(f"{target.title} {target.summary}")
        if len(word) >= MIN_WORD_LENGTH and not word.isdigit() and word not in ENGLISH_STOP_WORDS
    ][:MAX_CANDIDATE_WORDS]
    if not words:
        return []

    seen = cases_service.visibility(caller)

    def capped_count(condition, cap: int) -> ScalarSelect[int]:
        matches = select(literal(1)).select_from(Case).where(condition)
        if seen is not None:
            matches = matches.where(seen)
        capped = matches.limit(cap).subquery()
        return select(func.count()).select_from(capped).scalar_subquery()

    counts = session.execute(
        select(
            capped_count(literal(True), MAX_WORD_CASES * COMMON_WORD_SHARE),
            *(capped_count(_word_condition(session, word), MAX_WORD_CASES + 1) for word in words),
        )
    ).one()
    most = min(MAX_WORD_CASES, max(2, counts[0] // COMMON_WORD_SHARE))
    chosen: dict[str, int] = {}
    for count, _position, word in sorted(
        (count, position, word)
        for position, (word, count) in enumerate(zip(words, counts[1:], strict=True))
        if 2 <= count <= most
    ):
        if len(chosen) < MAX_WORDS and not any(_same_stem(word, count, *other) for other in chosen.items()):
            chosen[word] = count
    return list(chosen)


def _same_stem(word: str, count: int, other: str, other_count: int) -> bool:
    """Whether two words are likely one word for the search index (`tutor`, `tutors`): the engines stem
    inside the database, so a word that begins with the other and matches as many cases counts once."""
    return count == other_count and (word.startswith(other) or other.startswith(word))


def _shared_words(session: Session, words: list[str]):
    """The distinctive words that the case of the outer row contains too."""
    if not words:
        return select(literal(None, String).label("word")).where(literal(False))
    shared = union_all(*(select(literal(word).label("word")).where(_word_condition(session, word)) for word in words))
    return shared.order_by(literal_column("word"))


def _shared_terms(session: Session, target_id: uuid.UUID, words: list[str]) -> list[Select]:
    """One row per other case and term it shares with the target, with that term's weight."""
    shared = [
        select(case_column.label("case_id"), literal(WEIGHTS[kind], Integer).label("weight")).where(
            code_column.in_(_target_codes(case_column, code_column, target_id)), case_column != target_id
        )
        for kind, (case_column, code_column) in LINKS.items()
    ]
    # A subdomain counts once per case, however many of its risks fall in it.
    risk_subdomains = (
        select(Risk.case_id, Risk.subdomain)
        .where(Risk.subdomain.in_(_target_codes(Risk.case_id, Risk.subdomain, target_id)), Risk.case_id != target_id)
        .distinct()
        .subquery()
    )
    shared.append(select(risk_subdomains.c.case_id, literal(WEIGHTS["risk_subdomains"], Integer).label("weight")))
    shared += [
        select(Case.id.label("case_id"), literal(WEIGHTS["words"], Integer).label("weight")).where(
            _word_condition(session, word), Case.id != target_id
        )
        for word in words
    ]
    return shared


def _shared_codes(case_column, code_column, target_id: uuid.UUID) -> Select:
    """The codes of one kind that the case of the outer row shares with the target."""
    return (
        select(code_column)
        .where(case_column == Case.id, code_column.in_(_target_codes(case_column, code_column, target_id)))
        .order_by(code_column)
        .correlate(Case)
    )


def _shared_subdomains(target_id: uuid.UUID) -> Select:
    """The risk subdomains met by both the case of the outer row and the target, each once, in order."""
    return (
        select(Risk.subdomain)
        .where(Risk.case_id == Case.id, Risk.subdomain.in_(_target_codes(Risk.case_id, Risk.subdomain, target_id)))
        .distinct()
        .order_by(Risk.subdomain)
        .correlate(Case)
    )


def _json_array(codes: Select):
    # Distinct first, then listed in order.
    rows = codes.subquery()
    code = rows.c[0]
    return json_array_of(code, where=code.is_not(None), order_by=code)


def _count(codes: Select):
    return select(func.count()).select_from(codes.subquery()).scalar_subquery()


def similar_statement(*, session: Session, case_id: uuid.UUID, caller: Caller) -> Select:
    """The cases most like the given one that the caller may see, best first, each with a `similarity`
    annotation: its score and the terms it shares; 404 if the caller may not see the case itself.

    The best are found first, by one aggregate over the shared terms run on its own, so that the page and
    its total (pagination) do not each repeat it; the score and the shared terms of each case listed are
    then read for that case alone, with the same weights.
    """
    target = cases_service.get(session=session, case_id=case_id, caller=caller)
    words = distinctive_words(session, target, caller)
    terms = union_all(*_shared_terms(session, case_id, words)).subquery()
    total = func.sum(terms.c.weight)
    best = (
        select(terms.c.case_id)
        .join(Case, Case.id == terms.c.case_id)
        .group_by(terms.c.case_id)
        .order_by(total.desc(), terms.c.case_id)
        .limit(MAX_SIMILAR)
    )
    if (seen := cases_service.visibility(caller)) is not None:
        best = best.where(seen)
    best_ids = list(session.scalars(best))
    shared = {kind: _shared_codes(*columns, case_id) for kind, columns in LINKS.items()}
    shared["risk_subdomains"] = _shared_subdomains(case_id)
    shared["words"] = _shared_words(session, words)
    score = sum(WEIGHTS[kind] * _count(codes) for kind, codes in shared.items())
    similarity = json_object(
        key("score"),
        score,
        *(part for kind, codes in shared.items() for part in (key(f"shared_{kind}"), _json_array(codes))),
    )
    return (
        select(Case, cast(similarity, Text).label("similarity"))
        .where(Case.id.in_(best_ids))
        .order_by(score.desc(), Case.id)
    )
