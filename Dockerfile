# The Sandbox Case Registry served by gunicorn; started by bin/start, the same script the tests run.

FROM python:3.11.14-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

FROM python:3.11.14-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    BIND=0.0.0.0:8000 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# The code stays owned by root and read-only to the service; only instance/ (the SQLite default) is writable.
RUN groupadd --system --gid 10001 registry \
    && useradd --system --uid 10001 --gid registry --no-log-init --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin registry
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY alembic.ini gunicorn.conf.py wsgi.py ./
COPY migrations migrations
COPY sandbox_api sandbox_api
COPY --chmod=0755 bin/start bin/start
RUN mkdir instance && chown registry:registry instance
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ['BIND'].rpartition(':')[2]; urllib.request.urlopen(f'http://127.0.0.1:{port}/health/live', timeout=4)"]
CMD ["bin/start"]
