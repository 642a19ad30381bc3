"""LTI 1.3 endpoints: OIDC login, launch, JWKS, dynamic registration, Canvas JSON config,
and the role landing pages. See docs/lti.md for the flow and the security checks."""
from __future__ import annotations

from flask import Blueprint, Flask, jsonify

from lti_app.lti import (canvas, framing, housekeeping, keys, launch, login, pages, registration,
                         registration_policy, registry)
from lti_app.lti.errors import LaunchError

bp = Blueprint("lti", __name__, url_prefix="/lti")


@bp.route("/login", methods=["GET", "POST"], endpoint="login")
def login_view():
    return login.start_login()


@bp.post("/launch", endpoint="launch")
def launch_view():
    return launch.handle_launch()


@bp.after_request
def _no_store(response):
    # Login/launch pages carry state, id_tokens and launch tokens: never cache them.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.get("/jwks", endpoint="jwks")
def jwks_view():
    response = jsonify(keys.public_jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


bp.add_url_rule("/register", "register", registration.register_view, methods=["GET", "POST"])
bp.add_url_rule("/canvas.json", "canvas_config", canvas.canvas_config_view)
bp.add_url_rule("/instructor", "instructor_home", pages.instructor_home)
bp.add_url_rule("/learner", "learner_home", pages.learner_home)
bp.add_url_rule("/deep-link", "deep_link_home", pages.deep_link_home)


@bp.errorhandler(LaunchError)
def _refused(exc: LaunchError):
    return launch.error_response(exc)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # Per-process caches are keyed by database URL; a new app (tests recreate the schema on the
    # same URL) starts from what the database says.
    registry.forget()
    framing.forget()
    warning = registration_policy.startup_warning(app.config)
    if warning:   # production without an allowlist: dynamic registration is refused (docs/lti.md)
        app.logger.warning(warning)
    app.cli.add_command(keys.keys_group)
    app.cli.add_command(housekeeping.lti_group)
    if app.config.get("GRADELOOP_ENV") != "test":
        # Create the signing key at start-up; tests create it lazily (RSA generation is slow and
        # most tests never sign).
        with app.app_context():
            keys.ensure_keys()
