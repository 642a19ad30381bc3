"""Essay assignments: teachers create them (Deep Linking or a first launch), students submit,
teachers grade, and every grade goes to the LMS gradebook (AGS) and becomes training data.

Blueprint `coursework` under `/coursework`. A resource-link launch lands on
`coursework.assignment_home`; the deep-linking page links to `coursework.deep_link_select`.
"""
from flask import Blueprint, Flask

bp = Blueprint("coursework", __name__, url_prefix="/coursework")


def init_app(app: Flask) -> None:
    # Views register their routes on `bp` when imported.
    from lti_app.coursework import (assignments, data_admin, deep_linking, grading, revision,  # noqa: F401
                                    roster, settings, submissions)

    from lti_app.coursework import notices

    app.jinja_env.globals["coursework_notices"] = notices.current
    # Jinja's `capitalize` lower-cases the rest ("APA style" -> "Apa style"); rubric trait names
    # are the teacher's words, so only their first letter is raised.
    app.jinja_env.filters["first_upper"] = lambda text: str(text)[:1].upper() + str(text)[1:]
    app.register_blueprint(bp)
