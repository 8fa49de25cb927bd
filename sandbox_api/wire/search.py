"""The `q` query parameter and the `match` member of a searched list."""

import marshmallow as ma

from sandbox_api.storage.search import (
    MAX_PREFIXES,
    MAX_QUERY_LENGTH,
    MIN_PREFIX_LENGTH,
    RELEVANCE,
    SearchQuery,
    parse,
)
from sandbox_api.wire.fields import CONDITIONAL, PLAIN_TEXT, PLAIN_TEXT_PATTERN, sort_field

QUERY_DESCRIPTION = f"""Full-text search: only items whose text matches, most relevant first unless `sort` is
given. Words must all match, in any field and order; `"a quoted phrase"` matches those words in that
order; `word*` matches words that begin with `word` (with fewer than {MIN_PREFIX_LENGTH} letters before `*`,
or after {MAX_PREFIXES} prefixes, the word itself). Everything else (punctuation, `AND`, `OR`, `NOT`, `-`, column names) is plain text, not
an operator; a `q` without a letter or digit matches nothing. English words are matched by their stem
(`trained` finds `training`). Malay has no stemmer in either database: a Malay word matches the same word,
ignoring case (and, on SQLite, accents), but not its affixed forms (`pelajar` does not find `pelajaran`);
use a prefix (`pelajar*`) to find both. Common English words like `the` are ignored on PostgreSQL. Each
item then carries `match`."""


class SearchText(ma.fields.Field[SearchQuery]):
    """The `q` query parameter: a string on the wire, loaded as a `SearchQuery`."""

    def __init__(self) -> None:
        self._text = ma.fields.String(validate=PLAIN_TEXT)
        super().__init__(
            metadata={
                # Not a `String` subclass, whose value is a `str`: the OpenAPI type is given here instead.
                "type": "string",
                "description": QUERY_DESCRIPTION,
                "maxLength": MAX_QUERY_LENGTH,
                "pattern": PLAIN_TEXT_PATTERN,
            }
        )

    def _deserialize(self, value, attr, data, **kwargs) -> SearchQuery:
        text = self._text.deserialize(value, attr, data, **kwargs)
        if len(text) > MAX_QUERY_LENGTH:
            raise ma.ValidationError(f"Longer than {MAX_QUERY_LENGTH} characters.")
        return parse(text)


def search_sort_field(names: tuple[str, ...], default: str, *, note: str = "") -> ma.fields.String:
    """`sort` of a searchable list: its fields, or `relevance`, the default when `q` is given; `note` ends its
    description."""
    return sort_field(
        names,
        default,
        others=(RELEVANCE,),
        description=(
            f"Order of the items: a field name, or `-name` for descending, or `{RELEVANCE}` (most relevant first "
            f"with `q`; without `q`, the default order). Default: `{RELEVANCE}` with `q`, else `{default}`. The id "
            f"breaks ties, so the order is always the same.{note}"
        ),
    )


class SearchableQuerySchema(ma.Schema):
    """A list's query with `q`; sorting by relevance is the default with `q`, and without it the list's default
    order (a value the spec allows is never refused for the lack of another)."""

    q = SearchText()

    @ma.post_load(pass_original=True)
    def relevance_by_default(self, data: dict, original, **kwargs) -> dict:
        if "q" in data and "sort" not in original:
            data["sort"] = RELEVANCE
        if data.get("sort") == RELEVANCE and "q" not in data:
            data["sort"] = self.fields["sort"].load_default
        return data


class MatchSchema(ma.Schema):
    """Why a searched item matched."""

    rank = ma.fields.Float(
        dump_only=True,
        metadata={
            "description": "Relevance, higher is better; comparable only between the items of one response (its "
            "scale differs between databases and between queries)."
        },
    )
    snippet = ma.fields.String(
        dump_only=True,
        metadata={
            "description": "A short extract of the text where it matched, the matched words between `<mark>` and "
            "`</mark>`. The text is the registry's data with `&`, `<` and `>` escaped as HTML entities, so the "
            "only markup is those two tags.",
            "maxLength": 4000,
        },
    )


def match_field() -> ma.fields.Nested:
    return ma.fields.Nested(
        MatchSchema,
        dump_only=True,
        metadata={
            "description": "Present only when the list was searched with `q`: how the item matched it.",
            CONDITIONAL: True,
        },
    )
