"""Storage: the engine and sessions, SQL functions, rendering in the database, search, statements and facets."""
