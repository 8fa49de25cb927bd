"""Fields and base schemas shared by every resource's wire format."""

import enum
import ipaddress
import re
from datetime import UTC, datetime

import marshmallow as ma
from marshmallow import validate

# The one import from a higher layer: the taxonomies' term lists are plain data that import nothing.
from sandbox_api.taxonomies.data import (
    CAPABILITIES,
    PRINCIPLES,
    RISK_DOMAINS,
    RISK_SUBDOMAINS,
    SECTORS,
    TermData,
    codes,
)

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
LONG_TEXT = 20_000
URL_LENGTH = 2000
MAX_LIST_ITEMS = 50
MAX_FILTER_VALUES = 20


class Timestamp(ma.fields.DateTime):
    """An RFC 3339 timestamp in UTC with a `Z`."""

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


# Text is what a person reads: no C0 control character but tab, line feed and carriage return (NUL above
# all, which PostgreSQL cannot store), and no lone surrogate, which UTF-8 cannot encode. Bidirectional
# controls are text in Jawi and Arabic: kept as sent (docs/api-conventions.md).
PLAIN_TEXT_PATTERN = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]*$"
# The published pattern leaves lone surrogates out: they are not characters, and a JSON Schema validator's
# regular expressions (Rust's, for one) cannot name them.
PLAIN_TEXT = validate.Regexp(
    "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\ud800-\\udfff]*$",
    error="Must not contain control characters (other than tab, line feed and carriage return) or lone surrogates.",
)


def text(max_length: int, description: str, **kwargs) -> ma.fields.String:
    return ma.fields.String(
        validate=[validate.Length(max=max_length), PLAIN_TEXT],
        metadata={"description": description, "pattern": PLAIN_TEXT_PATTERN},
        **kwargs,
    )


def required_text(max_length: int, description: str, **kwargs) -> ma.fields.String:
    return ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=max_length), PLAIN_TEXT],
        metadata={"description": description, "pattern": PLAIN_TEXT_PATTERN},
        **kwargs,
    )


# Addresses (docs/api-conventions.md, *Addresses*). The published `format` and `pattern` say exactly what the
# server accepts: tests/test_addresses.py holds the two to each other with a JSON Schema validator.
# A URL: RFC 3986 syntax, http or https, a host, and no user information (a deceptive `https://gov.my@evil.example`).
URL_PATTERN = "^https?://[^@:/?#][^@/?#]*(?:[/?#]|$)"
_UNRESERVED_OR_SUB_DELIM = "-A-Za-z0-9._~!$&'()*+,;="  # the hyphen first: classes extend it
_PERCENT_ENCODED = "%[0-9A-Fa-f]{2}"
# RFC 3986 section 3: "//" host [":" port] path-abempty ["?" query] ["#" fragment]; the host an IP literal
# (checked below) or a registered name, never empty.
_URL_SYNTAX = re.compile(
    rf"https?://(?:\[(?P<ip_literal>[^\]]*)\]|(?:[{_UNRESERVED_OR_SUB_DELIM}]|{_PERCENT_ENCODED})+)(?::[0-9]*)?"
    rf"(?:/(?:[{_UNRESERVED_OR_SUB_DELIM}:@/]|{_PERCENT_ENCODED})*)?"
    rf"(?:\?(?:[{_UNRESERVED_OR_SUB_DELIM}:@/?]|{_PERCENT_ENCODED})*)?"
    rf"(?:#(?:[{_UNRESERVED_OR_SUB_DELIM}:@/?]|{_PERCENT_ENCODED})*)?"
)
_IP_FUTURE = re.compile(rf"[vV][0-9A-Fa-f]+\.[{_UNRESERVED_OR_SUB_DELIM}:]+")
# An e-mail address: RFC 5321's Mailbox with a dot-string local part and a domain name, which is also the HTML
# standard's "valid e-mail address" without its leading, trailing or doubled dots; lengths as RFC 5321 limits them.
_ATEXT = "A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_PATTERN = rf"^[{_ATEXT}]+(?:\.[{_ATEXT}]+)*@{_LABEL}(?:\.{_LABEL})*$"
EMAIL_LENGTH = 254  # RFC 5321's 256-octet path, less its angle brackets
_EMAIL_SYNTAX = re.compile(EMAIL_PATTERN)


def _is_ip_literal(literal: str) -> bool:
    if _IP_FUTURE.fullmatch(literal):
        return True
    try:
        ipaddress.IPv6Address(literal)
    except ValueError:
        return False
    return "%" not in literal  # RFC 3986 has no zone identifier, which Python's parser takes


def valid_url(value: str) -> str:
    match = _URL_SYNTAX.fullmatch(value)
    if match is None or (match["ip_literal"] is not None and not _is_ip_literal(match["ip_literal"])):
        raise ma.ValidationError(
            "Not a valid URL: an absolute http or https URL (RFC 3986) with a host and no user name or password."
        )
    return value


def valid_email(value: str) -> str:
    # RFC 5321 limits the local part to 64 octets; EMAIL_LENGTH keeps the domain within its limit.
    if _EMAIL_SYNTAX.fullmatch(value) is None or len(value.rpartition("@")[0]) > 64:
        raise ma.ValidationError("Not a valid e-mail address.")
    return value


class Url(ma.fields.String):
    """An absolute http or https URL: `url()`."""


class Email(ma.fields.String):
    """An e-mail address: `email()`."""


def url(description: str, max_length: int = URL_LENGTH, **kwargs) -> Url:
    return Url(
        validate=[validate.Length(max=max_length), valid_url],
        metadata={
            "description": f"{description} An absolute http or https URL as RFC 3986 writes it (spaces and non-ASCII "
            "characters percent-encoded), with a host and no user name or password.",
            "format": "uri",
            "pattern": URL_PATTERN,
        },
        **kwargs,
    )


def email(description: str, **kwargs) -> Email:
    return Email(
        validate=[validate.Length(max=EMAIL_LENGTH), valid_email],
        metadata={
            "description": f"{description} In ASCII: a local part of at most 64 characters (dot-separated, unquoted), "
            "`@` and a domain name (an IDN in its `xn--` form).",
            "format": "email",
            "pattern": EMAIL_PATTERN,
        },
        **kwargs,
    )


class Choice(ma.fields.Enum):
    """A member of a string enumeration, as its value on the wire. Dumps a member or its value alike: a JSON
    column (a case's `links`, `data_categories`...) hands back the values that were stored."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(None if value is None else self.enum(value), attr, obj, **kwargs)


def choice(enum_class: type[enum.StrEnum], description: str, **kwargs) -> Choice:
    return Choice(enum_class, by_value=True, metadata={"description": description}, **kwargs)


# Each taxonomy's codes are one named enumeration in the OpenAPI document (http/api.py), so that a
# generated client has one `Sector` type however many fields and parameters hold a sector.
TERM_ENUMERATIONS = {
    "Sector": SECTORS,
    "Capability": CAPABILITIES,
    "Principle": PRINCIPLES,
    "RiskDomain": RISK_DOMAINS,
    "RiskSubdomain": RISK_SUBDOMAINS,
}


class Enumerated(ma.fields.String):
    """A string from a named enumeration (a taxonomy's codes, the evidence grades): one schema component of
    that name in the OpenAPI document."""

    def __init__(self, enumeration: str, codes: list[str], **kwargs) -> None:
        self.enumeration = enumeration
        self.codes = codes
        super().__init__(validate=validate.OneOf(codes), **kwargs)


def enumerated(enumeration: str, codes: list[str], description: str, **kwargs) -> Enumerated:
    return Enumerated(enumeration, codes, metadata={"description": description}, **kwargs)


def term(terms: list[TermData], description: str, **kwargs) -> Enumerated:
    enumeration = next(name for name, listed in TERM_ENUMERATIONS.items() if listed is terms)
    return enumerated(enumeration, codes(terms), description, **kwargs)


def term_list(terms: list[TermData], description: str, **kwargs) -> ma.fields.List:
    return ma.fields.List(
        term(terms, description),
        validate=validate.Length(max=len(terms)),
        metadata={"description": description},
        **kwargs,
    )


def filter_values(field: ma.fields.Field, description: str) -> ma.fields.List:
    """A query filter that may be repeated; its values are OR'ed."""
    return ma.fields.List(
        field,
        validate=validate.Length(max=MAX_FILTER_VALUES),
        metadata={"description": f"{description} Repeat the parameter to match any of several values."},
    )


# Metadata of a read-only field that only some answers carry (`match` with `q`): the OpenAPI document does
# not list it in `required`, as it does every other read-only field.
CONDITIONAL = "conditional"


def id_field(description: str = "Identifier, a UUID assigned by the server.") -> ma.fields.UUID:
    return ma.fields.UUID(dump_only=True, metadata={"description": description})


def created_at_field() -> Timestamp:
    return Timestamp(dump_only=True, metadata={"description": "When it was created (UTC)."})


def updated_at_field() -> Timestamp:
    return Timestamp(dump_only=True, metadata={"description": "When it last changed (UTC)."})


class Sort(ma.fields.String):
    """`sort` of a list. Its default is applied by the server but not published as the parameter's `default`
    (http/api.py): a client that sent it would turn off the ordering by relevance (`q`) or ranking
    (`for_sector`) that only an absent `sort` gives."""


def sort_field(
    names: tuple[str, ...], default: str, *, others: tuple[str, ...] = (), description: str | None = None
) -> Sort:
    """`sort` of a list: its field names, ascending or descending (`-name`), and any `others` as given."""
    allowed = [*names, *(f"-{name}" for name in names), *others]
    if description is None:
        description = (
            f"Order of the items: a field name, or `-name` for descending (default `{default}`). "
            "The id breaks ties, so the order is always the same."
        )
    return Sort(
        load_default=default,
        validate=validate.OneOf(allowed),
        metadata={"description": description, "enum": allowed},
    )


class ListQuerySchema(ma.Schema):
    """Pagination, shared by every list; each list adds its `sort` and filters."""

    page = ma.fields.Integer(
        load_default=1, validate=validate.Range(min=1, max=1_000_000), metadata={"description": "Page number, from 1."}
    )
    page_size = ma.fields.Integer(
        load_default=DEFAULT_PAGE_SIZE,
        validate=validate.Range(min=1, max=MAX_PAGE_SIZE),
        metadata={"description": f"Items per page, at most {MAX_PAGE_SIZE}."},
    )


def case_reference_field() -> ma.fields.String:
    return ma.fields.String(dump_only=True, metadata={"description": "The `reference` of the record's case."})


def case_primary_sector_field() -> Enumerated:
    return term(SECTORS, "The `primary_sector` of the record's case.", dump_only=True)


def case_sector_filter() -> ma.fields.List:
    return filter_values(term(SECTORS, "A sector."), "Only records of cases touching this sector (any of `sectors`).")


def case_capability_filter() -> ma.fields.List:
    return filter_values(
        term(CAPABILITIES, "A capability."), "Only records of cases using this capability (any of `capabilities`)."
    )


def schema_without(schema_class: type[ma.Schema], name: str, leaving_out: tuple[str, ...], **added) -> type[ma.Schema]:
    """A subclass of `schema_class` named `name`, without the fields of `leaving_out` that it declares and with
    the fields (or attributes) `added`: a subclass, so that whatever the parent gains, it gains too."""
    parent_meta = getattr(schema_class, "Meta", object)
    declared = schema_class().declared_fields
    excluded = (*getattr(parent_meta, "exclude", ()), *(field for field in leaving_out if field in declared))
    return type(name, (schema_class,), {"Meta": type("Meta", (parent_meta,), {"exclude": excluded}), **added})
