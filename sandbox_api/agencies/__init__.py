"""The agencies resource."""
