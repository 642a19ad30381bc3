"""Teacher review of AI proposals: a queue per assignment (least confident first), and approve or
edit-then-approve, which makes the proposal the student's grade, a training example and a
gradebook update. Blueprint `review` under `/review`."""
from flask import Blueprint, Flask

bp = Blueprint("review", __name__, url_prefix="/review")


def init_app(app: Flask) -> None:
    from lti_app.review import views  # noqa: F401  (routes register on `bp`)

    app.register_blueprint(bp)
