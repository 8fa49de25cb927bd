"""The taxonomies resource."""
