"""The lessons resource."""
