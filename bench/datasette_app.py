"""Datasette serving the bench's SQLite file, as an ASGI app for gunicorn's uvicorn workers (`make bench`).

It runs in its own virtualenv (.bench/datasette-venv, from bench/requirements.txt) and imports nothing of
the registry. `datasette serve` runs one process; under gunicorn it gets as many worker processes as the
registry, and as many SQL threads per worker as the registry has gthread threads, so that both use the
same two cores the same way.
"""

import os

from datasette.app import Datasette

app = Datasette(
    # Immutable (`datasette -i`): opened read-only, with no change detection and table counts computed once.
    immutables=[os.environ["BENCH_DATASETTE_FILE"]],
    settings={
        "suggest_facets": False,
        "num_sql_threads": int(os.environ.get("GUNICORN_THREADS", "4")),
        # Datasette's defaults (1 s per query, 200 ms per facet) would answer a slow facet with a timeout
        # note rather than its counts; the bench checks that the counts are there.
        "facet_time_limit_ms": 1000,
    },
).app()
