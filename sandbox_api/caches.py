"""Every cache the registry keeps, in one place: what each keeps, under what key, why it never serves stale
data, how large it may grow, and what it was measured to save (docs/performance.md, "Caches"; ADR 0006).

Each process keeps its own: nothing here is shared between gunicorn workers or replicas, and none needs to be,
because nothing here can disagree with the database. A cache whose answer depends on the data is keyed by the
registry's state (`storage.db.registry_state`: a random version that every write transaction replaces, and
the UTC date), read in the same statement or snapshot as the answer; the others keep pure functions of their
key. Each cache has its lock: the workers run threads. `python -m bench.caches` measures each one again,
against the same requests with that cache emptied before every request.
"""

import threading

from cachetools import LRUCache

# Parsed query strings (`http.api.StrictParser`). Keeps the arguments that an operation's query schema loaded
# from a query string, under the schema and the raw query string. Never stale: loading is a pure function of
# the string (no field reads the database or the clock), and each request gets a copy of the dict. A query
# string that fails is never kept. Bound: 1,024 entries of a few KiB, a few MiB per process. Measured
# 2026-12-07: see docs/performance.md ("Caches").
PARSED_QUERIES: LRUCache = LRUCache(maxsize=1024)
PARSED_QUERIES_LOCK = threading.Lock()

# List statements (`storage.statements.built_once_per_query`). Keeps the filtered, sorted `Select` that a
# list's `list_statement` builds, under that builder, the database's dialect, the caller's role and agency and
# the query's arguments but `page` and `page_size`. Never stale: a builder reads nothing from the database (a
# value the data decides, like an agency's slug, goes into the SQL as a subquery), and a statement is an
# immutable value whose SQLAlchemy cache key is memoized on it. Bound: 512 statements of about 30 KiB with
# that key, some 16 MiB per process. Measured 2026-12-07: see docs/performance.md ("Caches").
LIST_STATEMENTS: LRUCache = LRUCache(maxsize=512)
LIST_STATEMENTS_LOCK = threading.Lock()

# Paging statements per statement shape (`http.pagination`). Keeps the page and count statements built from a
# filtered statement, under its shape (SQLAlchemy's cache key without the values), the schema that renders
# it and the dialect. Never stale: they are built from the shape alone, and each request binds its own
# values. Bound: 512 shapes, a few MiB per process. Measured 2026-12-07: see docs/performance.md ("Caches").
PAGE_STATEMENTS: LRUCache = LRUCache(maxsize=512)
PAGE_STATEMENTS_LOCK = threading.Lock()

# Totals of filtered lists (`http.pagination.paginate`, the `total` of X-Pagination). Keeps a count, under
# the shape's count statement, the filter's values and the registry state that the count was read with (the
# state is a column of the count's own SELECT, and of the page's: a page is answered with a kept total only
# if the page was read at the same state). Never stale: every write transaction changes the state, and so
# does midnight UTC (`review_overdue` is a filter). Bound: 4,096 integers with their keys, well under a MiB.
# Measured 2026-12-07: see docs/performance.md ("Caches").
LIST_TOTALS: LRUCache = LRUCache(maxsize=4096)
LIST_TOTALS_LOCK = threading.Lock()

# Insight answers (`insights.service.answered_once_per_state`). Keeps an insight's answer, under the insight,
# the dialect, the caller's role and agency, the query's arguments and the registry state, read in the same
# snapshot as the answer on SQLite and before it on PostgreSQL (an answer from newer data is kept under a
# state that later requests no longer read). Never stale, for the same reason as LIST_TOTALS. Bound: 192
# answers (32 per insight on average) of 18-160 KiB at 100,000 cases: 13 MiB for 32 questions of each
# insight, 30 MiB if all were the largest. Measured 2026-12-07: see docs/performance.md ("Caches").
INSIGHT_ANSWERS: LRUCache = LRUCache(maxsize=192)
INSIGHT_ANSWERS_LOCK = threading.Lock()
