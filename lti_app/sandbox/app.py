"""`create_platform_app`: the sandbox LMS as its own Flask app (OIDC auth, JWKS, token, AGS,
NRPS, deep linking return, and the development UI), over one `PlatformState` and `KeyRing`."""
from __future__ import annotations

import threading
from pathlib import Path

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from lti_app.sandbox.keys import KeyRing
from lti_app.sandbox.state import PlatformState

_PACKAGE = Path(__file__).resolve().parent.parent


def create_platform_app(state: PlatformState, keys: KeyRing | None = None, *, ui: bool = True,
                        persist_path: Path | None = None) -> Flask:
    """`persist_path`: save courses and gradebook there after every successful write request."""
    app = Flask("lti_app.sandbox", root_path=str(Path(__file__).resolve().parent), template_folder=str(_PACKAGE / "templates"),
                static_folder=str(_PACKAGE / "static"))
    app.config.update(SECRET_KEY="sandbox-lms-dev-only", JSON_SORT_KEYS=False)
    app.extensions["sandbox_state"] = state
    app.extensions["sandbox_keys"] = keys or KeyRing()
    # Set at shutdown so an injected 'timeout' stops waiting and the server can close.
    app.extensions["sandbox_stop"] = threading.Event()

    from lti_app.sandbox import ags, deep_linking, nrps, oidc, registration, services, ui as ui_pages

    for blueprint in (oidc.bp, services.bp, ags.bp, nrps.bp, deep_linking.bp, registration.bp):
        app.register_blueprint(blueprint)
    if ui:
        app.register_blueprint(ui_pages.bp)

    if persist_path is not None:
        from lti_app.sandbox.persist import save

        @app.after_request
        def _persist(response):
            if request.method not in ("GET", "HEAD", "OPTIONS") and response.status_code < 400 \
                    and request.path not in ("/auth", "/token"):
                save(state, persist_path)
            return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        if request.path.startswith(("/api/", "/token")):
            return {"error": exc.name, "error_description": exc.description, "status": status}, status
        return render_template("sandbox/message.html", title=exc.name, message=exc.description,
                               status=status), status

    return app
