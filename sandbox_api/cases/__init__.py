"""The cases resource."""
