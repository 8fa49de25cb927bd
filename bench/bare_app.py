"""The ceiling: a bare Flask app (no flask-smorest, no database) serving a real page of cases as constant JSON."""

import json
import os
from pathlib import Path

from flask import Flask, Response, jsonify

PAYLOAD_PATH = Path(
    os.environ.get("BENCH_BARE_PAYLOAD", Path(__file__).resolve().parent.parent / ".bench" / "bare_payload.json")
)
BARE_PATH = "/bare"


def create_bare_app(payload_path: Path = PAYLOAD_PATH) -> Flask:
    """A Flask app whose one route encodes the captured page afresh on every request, as the registry does."""
    payload = json.loads(payload_path.read_text())
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # as the registry's app

    @app.get(BARE_PATH)
    def bare() -> Response:
        return jsonify(payload)

    return app
