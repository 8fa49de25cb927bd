"""The cases resource."""

# Registers how cases are kept rendered, before anything renders one.
from sandbox_api.cases import documents  # noqa: F401
