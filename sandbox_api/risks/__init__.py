"""The risks resource."""
