"""Security and caching headers on every response, errors included (OWASP API8, OWASP Secure Headers)."""

from flask import Flask, Response, current_app, request

API_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Cross-Origin-Opener-Policy": "same-origin",
    # JSON is never a document to render: nothing may load from it or frame it.
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}
# The interactive docs are a page: their scripts and styles come from the app itself, and Swagger UI
# starts from one inline script of the bundled template.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)


def add_security_headers(response: Response) -> Response:
    response.headers.update(API_HEADERS)
    if request.path.startswith(current_app.config["DOCS_URL"]):
        response.headers["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
    if "Authorization" in request.headers:
        # What a key reads may be private: no cache, shared or not, may keep it.
        response.headers["Cache-Control"] = "no-store"
    elif request.method in ("GET", "HEAD"):
        response.vary.add("Authorization")
    return response


def init_app(app: Flask) -> None:
    """Register before the other after_request hooks: Flask runs them in reverse, so this one runs last."""
    app.after_request(add_security_headers)
