"""Teacher dashboard per assignment: course model status with live training progress, version
history and rollback, the promotion gate's quality report as charts, the review queue, gradebook
updates that failed for good (retry), and the auto-feedback settings. Blueprint `dashboard`."""
from flask import Blueprint, Flask

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.app_template_filter("percent")
def percent(fraction) -> str:
    """A 0..1 fraction as a whole percentage, rounded exactly as the charts round it ("58%")."""
    from lti_app.charts.svg import pct

    return pct(fraction)


@bp.app_template_filter("version_status")
def version_status(version, current) -> tuple[str, str]:
    """The version history's badge for `version` and a note beside it (`wording.version_status`)."""
    from lti_app.dashboard import wording

    return wording.version_status(version, current)


def init_app(app: Flask) -> None:
    from lti_app.dashboard import views  # noqa: F401  (routes register on `bp`)

    app.register_blueprint(bp)
