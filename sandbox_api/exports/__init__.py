"""Exports: whole filtered lists as CSV or NDJSON, streamed."""
