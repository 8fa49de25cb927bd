"""The outcomes resource."""
