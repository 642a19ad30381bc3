"""Essay assignments: teachers create them (Deep Linking or a first launch), students submit,
teachers grade, and every grade goes to the LMS gradebook (AGS) and becomes training data.

Blueprint `coursework` under `/coursework`. The LTI landing pages link to `coursework.assignment_home` and `coursework.deep_link_select`.
"""
from flask import Blueprint, Flask, g

bp = Blueprint("coursework", __name__, url_prefix="/coursework")


@bp.app_errorhandler(413)
def _too_large(exc):
    """An oversized upload: the generic error page would read the form again to find the launch
    token and raise 413 once more (a 500). Answer without the launch context instead."""
    from lti_app.web_security import error_page

    g.launch = None
    return error_page(413, "This upload is larger than Gradeloop accepts. Use a smaller file, or paste the text.")


def init_app(app: Flask) -> None:
    # Views register their routes on `bp` when imported.
    from lti_app.coursework import (assignments, data_admin, deep_linking, grading, roster,  # noqa: F401
                                    settings, submissions)

    from lti_app.coursework import notices

    app.jinja_env.globals["coursework_notices"] = notices.current
    app.register_blueprint(bp)
