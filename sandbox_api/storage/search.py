"""Full-text search with `q`: one service over the database's own engine, SQLite FTS5 or PostgreSQL tsvector.

The query language is deliberately small and parsed here, never handed to either engine's own syntax:
words (all must match), `"quoted phrases"` and `word*` prefixes. Every `q` the OpenAPI document allows is
searched: one with no word matches nothing, a prefix too short to search is the word itself (why: see
docs/search.md, *What `q` may be*). Each engine gets the same terms in a form that cannot carry operators:
FTS5 a string of double-quoted token lists, PostgreSQL tsqueries built by `phraseto_tsquery` and
`to_tsquery` from bound values. The indexes are kept in the same transaction
as the writes by the database itself (triggers on SQLite, a generated column on PostgreSQL); see the
migration `0004` and docs/search.md.
"""

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Select,
    Text,
    cast,
    column,
    false,
    func,
    literal_column,
    null,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Session

from sandbox_api.storage.sql import json_object, key
from sandbox_api.storage.statements import order_by

# Also what bounds a search's cost: it grows with the number of distinct terms, at most 100 in 200 characters.
MAX_QUERY_LENGTH = 200


# A shorter prefix would stand for a large share of the index's words.
MIN_PREFIX_LENGTH = 3
# Prefixes are what a search pays for (each expands to many words): past these, a `word*` is the word.
MAX_PREFIXES = 8


RELEVANCE = "relevance"


SNIPPET_WORDS = 16


# Private-use characters mark the matched words while the snippet's text is escaped; they then become
# the only markup in it. Nobody types them, and a stray one would only add a `<mark>`.
_START, _STOP = 0xE000, 0xE001


# What both engines' tokenizers treat as one token: a run of letters and digits (the underscore and all
# punctuation separate tokens).
_TOKEN = re.compile(r"[^\W_]+")


_CHUNK = re.compile(r'"([^"]*)(?:"|$)|([^\s"]+)')


@dataclass(frozen=True)
class Term:
    """A word, a phrase or a prefix: `text` as the caller wrote it, `tokens` as the engines split it."""

    text: str
    tokens: tuple[str, ...]
    prefix: bool = False

    @property
    def key(self) -> tuple:
        """What the term matches: both engines ignore case, so `Data` and `data` are one term."""
        return tuple(token.lower() for token in self.tokens), self.prefix


@dataclass(frozen=True)
class SearchQuery:
    """A parsed `q`: every term must match; with no terms, nothing does."""

    terms: tuple[Term, ...]

    def fts5(self) -> str:
        """The FTS5 query: each term a quoted token list, which FTS5 reads as a phrase and nothing else."""
        return " ".join(f'"{" ".join(term.tokens)}"{"*" if term.prefix else ""}' for term in self.terms)


def parse(text: str) -> SearchQuery:
    """The distinct terms of `q`, in order: none when it has no word of letters or digits.

    A term repeated adds nothing to what matches, only to what the search costs: it is searched once.
    """
    terms: dict[tuple, Term] = {}
    prefixes = 0
    for match in _CHUNK.finditer(text):
        phrase, word = match.groups()
        if phrase is not None:
            term = Term(phrase, tuple(_TOKEN.findall(phrase)))
        else:
            bare = word.rstrip("*")
            tokens = tuple(_TOKEN.findall(bare))
            prefix = word.endswith("*") and len(tokens) == 1 and len(tokens[0]) >= MIN_PREFIX_LENGTH
            term = Term(bare, tokens, prefix and prefixes < MAX_PREFIXES)
        if term.tokens and term.key not in terms:
            terms[term.key] = term
            prefixes += term.prefix
    return SearchQuery(tuple(terms.values()))


@dataclass(frozen=True)
class SearchIndex:
    """A searchable model (a mapped class with an `id`): its searched columns (weights A, B, C as in the
    migration `0004`)."""

    model: type[Any]
    columns: tuple[str, ...]

    @property
    def table_name(self) -> str:
        return self.model.__tablename__

    @property
    def fts(self) -> str:
        return f"{self.table_name}_fts"


def _safe_snippet(snippet, character) -> object:
    """The snippet with `&`, `<`, `>` escaped, then its match markers turned into `<mark>` tags."""
    escaped = snippet
    for raw, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        escaped = func.replace(escaped, literal_column(f"'{raw}'"), literal_column(f"'{entity}'"))
    escaped = func.replace(escaped, character(_START), literal_column("'<mark>'"))
    return func.replace(escaped, character(_STOP), literal_column("'</mark>'"))


def _match_json(rank, snippet):
    return cast(json_object(key("rank"), rank, key("snippet"), snippet), Text).label("match")


def _fts5_match(fts, index: SearchIndex, search: SearchQuery) -> ColumnElement[bool]:
    """`fts` (the FTS5 table of `index`, or an alias of it) MATCH the query."""
    return fts.c[index.fts].op("MATCH")(search.fts5())


def _search_vector(index: SearchIndex):
    """The row's generated `search_vector` (PostgreSQL), which the models do not map (see the migration 0004)."""
    return literal_column(f"{index.table_name}.search_vector", TSVECTOR)


def _sqlite(statement: Select, index: SearchIndex, search: SearchQuery) -> tuple[Select, ColumnElement]:
    """`statement` narrowed to the rows matching `search`, each with its `match`; and its ORDER BY term, most
    relevant first."""
    # Joined for the filter and the ranking: FTS5 finds the matching rowids and ranks them (bm25 with the
    # column weights the migration configured as the table's `rank`) in one pass.
    fts = table(index.fts, column("rowid"), column(index.fts), column("rank"))
    row: ColumnClause[Any] = literal_column(f"{index.table_name}.rowid")
    statement = statement.join(fts, fts.c.rowid == row).where(_fts5_match(fts, index, search))
    # The annotation reads the index again for just its row: the page's rows are chosen first (pagination),
    # so snippets are made for those rows only.
    matched = table(index.fts, column("rowid"), column(index.fts), column("rank")).alias(f"{index.fts}_matched")
    snippet = func.snippet(
        matched.c[index.fts],
        literal_column("-1"),
        func.char(_START),
        func.char(_STOP),
        literal_column("'…'"),
        literal_column(str(SNIPPET_WORDS)),
    )
    annotation = (
        select(_match_json(-matched.c.rank, _safe_snippet(snippet, func.char)))
        .where(_fts5_match(matched, index, search), matched.c.rowid == row)
        .scalar_subquery()
    )
    return statement.add_columns(annotation.label("match")), fts.c.rank


def words(text: str) -> list[str]:
    """The distinct words of `text` as both engines' tokenizers split it, lower-cased, in order."""
    return list(dict.fromkeys(token.lower() for token in _TOKEN.findall(text)))


def _tsquery(search: SearchQuery) -> ColumnElement[Any] | None:
    english: ColumnClause[Any] = literal_column("'english'::regconfig")
    query: ColumnElement[Any] | None = None
    for term in search.terms:
        if term.prefix:
            part = func.to_tsquery(english, f"{term.tokens[0]}:*")
        else:
            part = func.phraseto_tsquery(english, term.text)
        query = part if query is None else query.op("&&")(part)
    return query


def _postgresql_match(index: SearchIndex, search: SearchQuery) -> ColumnElement:
    """The `match` of a row of `index.model` in the enclosing query: its rank and its snippet."""
    vector = _search_vector(index)
    query = _tsquery(search)
    text = func.concat_ws(literal_column("' … '"), *(getattr(index.model, name) for name in index.columns))
    options: ColumnClause[Any] = literal_column(
        f'\'MaxFragments=2, MaxWords={SNIPPET_WORDS}, MinWords=6, FragmentDelimiter=" … ", '
        f"StartSel=' || chr({_START}) || ', StopSel=' || chr({_STOP})"
    )
    snippet = func.ts_headline(literal_column("'english'::regconfig"), text, query, options)
    return _match_json(func.ts_rank_cd(vector, query), _safe_snippet(snippet, func.chr))


def _postgresql(statement: Select, index: SearchIndex, search: SearchQuery) -> tuple[Select, ColumnElement]:
    """`statement` narrowed to the rows matching `search`, each with its `match`; and its ORDER BY term, most
    relevant first."""
    vector, query = _search_vector(index), _tsquery(search)
    statement = statement.where(vector.op("@@")(query)).add_columns(_postgresql_match(index, search))
    return statement, func.ts_rank_cd(vector, query).desc()


def _postgresql_ranked_first(
    statement: Select, index: SearchIndex, search: SearchQuery, visibility: ColumnElement[bool]
) -> Select:
    """`statement` (with no filters) narrowed to the rows matching `search` whose case the caller may see
    (`visibility`), most relevant first, each with its `match`.

    The matches are ranked and sorted in a subquery of their own (its ORDER BY keeps PostgreSQL from merging
    it into the query), and whether each one's case is visible is then looked up for the best matches only,
    in rank order, until the page is full. Most matches are visible: in one query PostgreSQL looked up every
    match's case before sorting (at 100,000 cases, for a word in 4,500 lessons, 4,500 look-ups, 24 -> 14 ms
    in-process). A filtered search stays one query: a filter can leave few matches, and PostgreSQL may then
    start from it (a filter on the case's sector took twice as long ranked first).
    """
    vector, query = _search_vector(index), _tsquery(search)
    rank = func.ts_rank_cd(vector, query)
    ranked = (
        statement.with_only_columns(index.model.id, rank.label("rank"))
        .where(vector.op("@@")(query))
        .order_by(rank.desc(), index.model.id)
        .subquery(f"{index.table_name}_by_rank")
    )
    return (
        statement.join(ranked, ranked.c.id == index.model.id)
        .where(visibility)
        .add_columns(_postgresql_match(index, search))
        .order_by(ranked.c.rank.desc(), ranked.c.id)
    )


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def matching(index: SearchIndex, search: SearchQuery, *, session: Session) -> ColumnElement[bool]:
    """Whether the row of `index.model` in the enclosing query matches `search`: a condition, with no rank."""
    if _dialect(session) == "postgresql":
        return _search_vector(index).op("@@")(_tsquery(search))
    fts = table(index.fts, column("rowid"), column(index.fts))
    matched = select(fts.c.rowid).where(_fts5_match(fts, index, search))
    return literal_column(f"{index.table_name}.rowid").in_(matched)


def _narrowed(statement: Select, session: Session, index: SearchIndex, search: SearchQuery):
    if not search.terms:
        # No row, but the columns of a searched list: an export's CSV keeps its `match` column.
        return statement.where(false()).add_columns(cast(null(), Text).label("match")), index.model.id
    if _dialect(session) == "postgresql":
        return _postgresql(statement, index, search)
    return _sqlite(statement, index, search)


def matched(statement: Select, *, session: Session, index: SearchIndex, search: SearchQuery) -> Select:
    """`statement` (a `select(Model)` with its filters) narrowed to the rows matching `search`, each annotated
    with its `match`, in no particular order."""
    return _narrowed(statement, session, index, search)[0]


def ordered(
    statement: Select,
    *,
    session: Session,
    index: SearchIndex,
    query: dict,
    visibility: ColumnElement[bool] | None = None,
) -> Select:
    """`statement` (a `select(Model)` with its filters), narrowed to the rows whose case the caller may see
    (`visibility`, for records of cases; None when the statement says it or the caller sees every case),
    ordered as `query["sort"]` says and, when `query` has `q`, narrowed to the rows matching it, each
    annotated with its `match`.

    A list becomes searchable by taking `SearchableQuerySchema` and `search_sort_field` in its query schema
    and ending its statement with this instead of `order_by`. Visibility is tested last: SQLite tests
    conditions in the order given, and a record's own columns rule out more, more cheaply, than a look-up of
    its case; PostgreSQL, ranking a search with no filters by relevance, looks it up after ranking
    (`_postgresql_ranked_first`).
    """
    search, sort = query.get("q"), query["sort"]
    if search is not None:
        # The best plan for a word in half the rows is not the best for a rare one: planned for each query.
        statement = statement.execution_options(generic_plan=False)
        unfiltered = statement.whereclause is None
        ranked_first = sort == RELEVANCE and unfiltered and bool(search.terms) and _dialect(session) == "postgresql"
        if ranked_first and visibility is not None:
            return _postgresql_ranked_first(statement, index, search, visibility)
    if visibility is not None:
        statement = statement.where(visibility)
    if search is None:
        return statement.order_by(*order_by(index.model, sort))
    statement, most_relevant_first = _narrowed(statement, session, index, search)
    if sort == RELEVANCE:
        return statement.order_by(most_relevant_first, index.model.id)
    return statement.order_by(*order_by(index.model, sort))


# An FTS5 table of a search index (`SearchIndex.fts`) and its shadow tables.
_FTS_TABLE = re.compile(r"\w+_fts(_\w+)?")


def include_in_migrations(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's `include_name`: the search indexes are the migration's, not the models'.

    The FTS5 tables (and their shadow tables) on SQLite and the generated `search_vector` columns with
    their GIN indexes on PostgreSQL are written by the database, never by the ORM, and one metadata cannot
    hold a column that exists on only one of the two databases.
    """
    if name is None:
        return True
    if type_ == "table":
        return _FTS_TABLE.fullmatch(name) is None
    if type_ == "column":
        return name != "search_vector"
    if type_ == "index":
        return not name.endswith("_search_vector")
    return True
