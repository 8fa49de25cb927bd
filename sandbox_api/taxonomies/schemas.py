"""Wire format of taxonomies."""

import marshmallow as ma


class TermSchema(ma.Schema):
    code = ma.fields.String(metadata={"description": "The code used in the API's fields and filters."})
    label = ma.fields.String(metadata={"description": "Human-readable name."})
    description = ma.fields.String(allow_none=True, metadata={"description": "What the term covers."})
    subdomains = ma.fields.List(
        ma.fields.Nested(lambda: TermSchema(exclude=("subdomains",))),
        metadata={"description": "For risk domains only: the subdomains, coded `domain.n`.", "maxItems": 100},
    )


class TaxonomySchema(ma.Schema):
    """A controlled vocabulary, served read-only."""

    name = ma.fields.String(metadata={"description": "The taxonomy's name in the URL."})
    title = ma.fields.String(metadata={"description": "What the taxonomy classifies."})
    source = ma.fields.String(metadata={"description": "Where the terms come from."})
    terms = ma.fields.List(
        ma.fields.Nested(TermSchema), metadata={"description": "The terms, in their canonical order.", "maxItems": 100}
    )
