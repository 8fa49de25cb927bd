"""The keys resource."""
