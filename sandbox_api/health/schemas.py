"""Wire format of the probes."""

import marshmallow as ma


class HealthSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "`ok` when healthy."})
