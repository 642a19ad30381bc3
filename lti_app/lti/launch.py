"""`/lti/launch`: the platform posts id_token + state here (LTI 1.3 step two).

When the browser did not send our binding cookie, three recoveries exist before refusing:
platform storage (read the value back with `lti.get_data`, then re-post), a same-site bounce
for a top-level cross-site POST over HTTP (SameSite=Lax cookies are not sent on those), and
finally an error page with "open in a new window".
"""
from __future__ import annotations

import hmac

from flask import current_app, g, make_response, redirect, render_template, request, url_for

from lti_app import auth
from lti_app.extensions import db
from lti_app.lti import binding, deep_linking_state, registry
from lti_app.lti import claims as C
from lti_app.lti.errors import LaunchError
from lti_app.lti.login import new_window_url
from lti_app.lti.provisioning import provision
from lti_app.lti.refusals import log_refusal
from lti_app.lti.urls import is_ours, origin
from lti_app.lti.validation import (binding_hash, burn_state, consume_own_state, consume_state, find_state,
                                    verify_id_token)
from lti_app.models import LoginState, Role


def _stored_binding() -> str | None:
    """The binding value our re-post page read back from platform storage (launch_storage.html).
    Taken only from a POST by our own page: otherwise whoever holds an unused launch of their own
    and its value could post both from another site in a victim's browser (login CSRF), which would
    then work in their session. A browser names a cross-site form's page in Sec-Fetch-Site (or, in
    older ones, Origin)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        ours = site == "same-origin"
    else:
        sent_from = request.headers.get("Origin")
        ours = sent_from is None or is_ours(sent_from)
    return request.form.get("storage_binding") if ours else None


def _matching_secret(row) -> str | None:
    for candidate in (binding.current_secret(), _stored_binding()):
        if candidate and hmac.compare_digest(binding_hash(candidate), row.browser_binding):
            return candidate
    return None


def _recovery_page(row):
    """A page that retries the launch with the binding from platform storage or a same-site POST
    (each at most once: the retry carries `storage_binding` / `gl_bounced`)."""
    if row.used_at is not None:
        return None
    fields = {"id_token": request.form.get("id_token", ""), "state": row.state}
    target = request.form.get("lti_storage_target") or (row.login_params or {}).get("lti_storage_target")
    if target and "storage_binding" not in request.form:
        platform = registry.by_id(row.platform_id)
        return render_template("lti/launch_storage.html", fields=fields, storage_target=target,
                               storage_key=binding.storage_key(row.state),
                               platform_origin=origin(platform.auth_login_url) if platform else "")
    cross_site_top_level = (request.headers.get("Sec-Fetch-Site") == "cross-site"
                            and request.headers.get("Sec-Fetch-Dest") == "document")
    if cross_site_top_level and "gl_bounced" not in request.form:
        return render_template("lti/launch_bounce.html", fields=fields)
    return None


ACTIVITY_HOME = "coursework.assignment_home"


def landing_endpoint(message_type: str, role: Role) -> str:
    if message_type == C.DEEP_LINKING_REQUEST:
        return "lti.deep_link_home"
    # Opening the activity in the LMS opens the activity itself (the teacher's essay list, the
    # student's assignment page, or its set-up), not a welcome page one click short of it. The
    # role pages remain for an app without the coursework feature.
    if ACTIVITY_HOME in current_app.view_functions:
        return ACTIVITY_HOME
    return "lti.instructor_home" if role.can_grade else "lti.learner_home"


def handle_launch():
    if request.form.get("error") and not request.form.get("id_token"):
        # OIDC error response (e.g. login_required when the LMS session ended).
        raise LaunchError(f"The LMS did not sign you in to Gradeloop: {request.form['error']} "
                          f"({request.form.get('error_description', 'no details')}). Reload the course "
                          f"page and open the activity again.", code="platform_error")
    state = request.form.get("state")
    row = consume_own_state(state, [binding.current_secret(), _stored_binding()])
    if row is None:
        row = find_state(state)
        secret = _matching_secret(row)
        if secret is None:
            page = _recovery_page(row)
            if page is not None:
                return page
            if not binding.current_secret() and not _stored_binding():
                raise LaunchError("Your browser did not send back the cookie set when this launch "
                                  "started, so the launch cannot be tied to the browser that started "
                                  "it. It was started in a different browser, or this browser blocks "
                                  "cookies inside the course page.", code="state_other_browser")
        consume_state(row, secret)
    # From here on a refusal burns the state (the UPDATE above is rolled back with the launch).
    g.lti_consumed_state = row.state
    verified = verify_id_token(request.form.get("id_token"), row)
    made = provision(verified)
    ctx = auth.start_session(verified.platform.id, made.course_id, made.user_id, made.role,
                             made.resource_link_id)
    if verified.message_type == C.DEEP_LINKING_REQUEST:
        deep_linking_state.save(ctx.launch_id, verified.platform.id, verified.deployment_id,
                                verified.claims[C.DEEP_LINKING_SETTINGS])
    db.session.commit()
    target = url_for(landing_endpoint(verified.message_type, made.role), start=auth.start_token(ctx))
    return redirect(target, code=303)


def _hint_is_single_use(platform_id: int) -> bool:
    """Moodle deletes a launch's `lti_message_hint` when its auth endpoint first reads it, so the
    same login opened again in a new window ends in Moodle's "invalid_request". Such a launch can
    only be started again from the LMS page itself."""
    platform = registry.by_id(platform_id)
    return platform is not None and platform.product_family == "moodle"


def error_response(exc: LaunchError):
    """The refusal page; nothing of the launch is kept and no session is started."""
    db.session.rollback()
    log_refusal(exc)
    # Only a state this browser proved it owns is burned: nobody else can cancel a launch.
    if g.get("lti_consumed_state"):
        burn_state(g.lti_consumed_state)
    new_window, relaunch_from_lms = None, False
    if exc.code == "state_other_browser":
        row = db.session.get(LoginState, (request.form.get("state") or "")[:128])
        relaunch_from_lms = row is not None and _hint_is_single_use(row.platform_id)
        new_window = None if relaunch_from_lms else new_window_url(row.login_params if row else None)
    if request.accept_mimetypes.best == "application/json":
        return {"error": exc.message, "code": exc.code, "status": exc.status}, exc.status
    response = make_response(render_template("lti/launch_error.html", message=exc.message, code=exc.code,
                                             status=exc.status, new_window_url=new_window,
                                             relaunch_from_lms=relaunch_from_lms), exc.status)
    if request.path.startswith("/lti/register"):
        response.headers["Content-Security-Policy"] = "frame-ancestors *"   # shown inside the LMS admin UI
    return response
