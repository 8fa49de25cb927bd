"""The WSGI entry point for gunicorn and the `flask --app wsgi` commands."""

from sandbox_api import create_app

app = create_app()
