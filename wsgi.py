"""The WSGI entry point for gunicorn and the `flask --app wsgi` commands."""

from sandbox_api import create_app, private_apis
from sandbox_api.http.problem_details import write_refusal

app = create_app()
# What gunicorn refuses itself (a request line or headers too long) is answered as the API answers errors.
# Here, not in gunicorn.conf.py: the bench serves other applications with that file.
private_apis.answer_refused_requests_with(write_refusal)
