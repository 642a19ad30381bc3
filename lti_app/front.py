"""`/`: what someone who opens Gradeloop's own address outside an LMS reads (a student who copied
the frame's address, an administrator setting it up): how to open it, and the URLs an LMS needs.
It was a bare "Not found"."""
from flask import Blueprint, Flask, render_template

bp = Blueprint("front", __name__)


@bp.get("/")
def front():
    from lti_app.lti.urls import public_url

    urls = [("LTI 1.3 Dynamic Registration (Moodle, and other LMSs that support it)", public_url("lti.register")),
            ("Canvas developer key configuration (JSON)", public_url("lti.canvas_config")),
            ("OpenID Connect login (initiation) URL", public_url("lti.login")),
            ("Launch (redirect / target link) URL", public_url("lti.launch")),
            ("Public keys (JWKS) URL", public_url("lti.jwks"))]
    return render_template("front.html", urls=urls)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
