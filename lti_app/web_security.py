"""Cross-cutting web protections: cookie policy for LMS iframes, security headers, CSRF checks on
every state-changing request, the session keep-alive that typing sends (and the read of the session's
end that pages make before they warn of it), and friendly 4xx pages instead of stack traces."""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask, current_app, g, jsonify, redirect, render_template, request
from werkzeug.exceptions import HTTPException

from lti_app import auth, lms_words
from lti_app.lti.urls import is_ours

log = logging.getLogger(__name__)

# Endpoints that receive cross-site POSTs by design and are protected by LTI itself
# (OIDC state + signed id_token, or a registration token).
CSRF_EXEMPT_PREFIXES = ("/lti/login", "/lti/launch", "/lti/register", "/sandbox/")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


# The last frame-ancestors computed from the database, per database URL, and whether the failure
# to compute it has been logged (once per outage, not once per response).
_last_good: dict[str, str] = {}
_outage_logged = False


def _frame_ancestors() -> str:
    """LMS origins allowed to frame us: `GRADELOOP_FRAME_ANCESTORS` when set, else the registered
    platforms' origins (lti_app.lti.framing, cached)."""
    global _outage_logged
    if "lti" in current_app.blueprints:
        from lti_app.lti.framing import frame_ancestors

        key = current_app.config.get("SQLALCHEMY_DATABASE_URI", "")
        try:
            value = " ".join(frame_ancestors())
        except Exception as exc:
            # The platforms table is read here, after the view ran, for *every* response. With the
            # database down that turned /healthz's 503 JSON (and every error page) into a bare 500:
            # a header must never cost the response. Fall back to the last origins we computed, or
            # to 'self' alone (stricter than any real list; during an outage pages fail anyway).
            _forget_failed_transaction()
            if not _outage_logged:
                _outage_logged = True
                log.warning("event=frame_ancestors_fallback error=%s: cannot read the registered "
                            "platforms; using the last known frame-ancestors until the database "
                            "answers (set GRADELOOP_FRAME_ANCESTORS to avoid the lookup)",
                            exc.__class__.__name__)
            return _last_good.get(key, "'self'")
        _last_good[key] = value
        _outage_logged = False
        return value
    ancestors = current_app.config.get("GRADELOOP_FRAME_ANCESTORS") or ["*"]
    return " ".join(ancestors)


def _forget_failed_transaction() -> None:
    from lti_app.extensions import db

    try:
        db.session.rollback()
    except Exception:  # the connection is gone; the app context's teardown discards the session
        pass


def init_app(app: Flask) -> None:
    https = app.config.get("GRADELOOP_PUBLIC_URL", "").startswith("https://") or app.config["GRADELOOP_ENV"] == "production"
    # Inside an LMS iframe the cookie is third-party: it must be SameSite=None; Secure over HTTPS.
    # Over plain HTTP (development) browsers reject Secure cookies, so Lax is the best we can do
    # and the signed launch token in URLs carries the session instead.
    app.config.update(
        SESSION_COOKIE_NAME="gradeloop_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=https,
        SESSION_COOKIE_SAMESITE="None" if https else "Lax",
        # CHIPS, like the login cookie (lti/binding.py): Chrome with third-party cookies blocked
        # keeps a partitioned cookie for the LMS site, so the session rides the cookie there
        # instead of the launch token in every URL. Browsers without CHIPS ignore the attribute.
        SESSION_COOKIE_PARTITIONED=https,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=app.config.get("GRADELOOP_SESSION_MINUTES", 120)),
    )
    app.jinja_env.globals.update(lurl=auth.lurl, csrf_token=auth.csrf_token, launch_field=auth.launch_field,
                                 current_launch=auth.current_launch, person_name=auth.person_name,
                                 upload_limit=upload_limit)

    app.add_url_rule("/session/keep-alive", "keep_alive", keep_alive, methods=["POST"])
    app.add_url_rule("/session/end", "session_end", session_end, methods=["GET"])

    @app.before_request
    def _refuse_nul():
        # No text column takes a NUL (PostgreSQL refuses it: a 500 from deep inside a launch or a
        # form). Essays are cleaned of it where their text is read (`essay_text.normalise`).
        pairs = [*request.args.items(multi=True)]
        if request.method not in SAFE_METHODS and request.mimetype in FORM_TYPES:
            pairs += [(k, v) for k, v in request.form.items(multi=True) if k != "text"]
        if any("\x00" in k or "\x00" in v for k, v in pairs):
            return error_page(400, "The request contains a NUL character, which is never part of "
                                   "text Gradeloop accepts. Remove it and send it again.", **_typed())
        return None

    @app.before_request
    def _token_out_of_the_address_bar():
        clean = auth.url_without_token()
        return redirect(clean, code=303) if clean else None

    @app.before_request
    def _check_csrf():
        if request.method in SAFE_METHODS or request.path.startswith(CSRF_EXEMPT_PREFIXES):
            return None
        if request.routing_exception is not None:
            return None   # no view will run: the caller gets the real 404 or 405, not "session ended"
        token = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token")
        if not auth.csrf_valid(token):
            # Students read this too: the LMS by the name they know it by (lms_words), no jargon.
            # (A form sent from another site lands here as well; its sender needs no explanation.)
            return error_page(403, f"Nothing was saved: your session has ended. Go back to "
                                   f"{lms_words.course_page(lms_words.ended_session_platform())} and open Gradeloop "
                                   "again from there, then send the form again.",
                              heading="Your session has ended", **_typed())
        return None

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", f"frame-ancestors {_frame_ancestors()}")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        return response

    @app.errorhandler(413)
    def _too_large(exc):
        # The generic error page would read the form again to find the launch token and raise
        # 413 once more (a 500). Answer without the launch context instead.
        g.launch = None
        limit = upload_limit()
        if request.endpoint == "coursework.import_grades":
            return error_page(413, f"This file is larger than the {limit} Gradeloop accepts in one import. Split it "
                                   "into several files (keep the header line in each) and import them one by one: "
                                   "an essay already imported is not added twice. Nothing was imported.")
        # The form cannot be read (it is what is too large). Pasted text that size is past the
        # page's own character check, so this is nearly always a file: a Word file with a photo
        # in it, whatever the essay's length (a reviewer's 3.6 MB .docx of 500 words was told
        # about 100,000 characters, which said nothing about what to do).
        return error_page(413, f"The file you chose is larger than the {limit} Gradeloop accepts. A Word file "
                               "with pictures in it is often that large, however short the essay: paste the "
                               "essay's text into the box instead, or save a copy without the pictures and "
                               "upload that. Nothing was handed in.")

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return error_page(exc.code or 500, exc.description or exc.name)


@auth.require_launch()
def keep_alive():
    """Typing is use: pages call this while someone types (base.html, at most every 5 minutes),
    so a session does not end under an essay written in one sitting. It answers the field that
    names the launch in forms, whose signed token (`lt`, cookie refused) now carries the new end."""
    name, value = auth.launch_field()
    ctx = auth.current_launch()
    return _no_store(jsonify(field=name, value=value, expires_at=ctx.expires_at, **ctx.timing))


@auth.require_launch(renews=False)
def session_end():
    """When the session ends (`LaunchContext.timing`), read without renewing it: a page asks before
    it warns that the session ends or has ended (base.html), since with the cookie another tab's use
    may have extended it. Asking is not use, so a warning left on screen never keeps a session going;
    a session that has ended answers 401, like any page."""
    return _no_store(jsonify(auth.current_launch().timing))


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


# Form fields that hold what a person typed at length: an essay, a grade's comment, a prompt.
TYPED_FIELDS = ("text", "comment", "prompt")
# And a teacher's grade: the score, and a score per rubric trait ("trait:<name>", the grading forms).
SCORE_FIELD, TRAIT_PREFIX = "score", "trait:"


def _typed() -> dict:
    """What the refused form carried that a person typed, for `error_page`: `kept`, the text, and
    `kept_scores`, [(trait name, or "" for the score; the value as typed)]. A session ends after
    GRADELOOP_SESSION_MINUTES without use, or at GRADELOOP_SESSION_MAX_HOURS, and typing only counts
    where the page's script runs and reaches us (the cookie keeps the last few launches too), so an
    essay written in one long sitting, or a grade with a long comment, can reach an expired session:
    the error page gives it back instead of dropping it. Only shown, never stored. A NUL, which no
    field takes, is left out."""
    origin = request.headers.get("Origin")
    if origin and not is_ours(origin):
        return {}   # a cross-site form: never show what it carries on a Gradeloop page
    form = {k: v.replace("\x00", "").strip() for k, v in request.form.items()}
    text = "\n\n".join(form[f] for f in TYPED_FIELDS if form.get(f))
    scores = [("" if k == SCORE_FIELD else k.removeprefix(TRAIT_PREFIX), v) for k, v in form.items()
              if v and (k == SCORE_FIELD or k.startswith(TRAIT_PREFIX))]
    return {"kept": text, "kept_scores": scores}


def upload_limit() -> str:
    """The largest upload Gradeloop takes, in words ("2 MB"): the 413 page and the hand-in form's hint."""
    return f"{current_app.config['GRADELOOP_MAX_UPLOAD_BYTES'] / 1_000_000:g} MB"


def error_page(status: int, message: str, kept: str = "", heading: str = "", kept_scores=()):
    """A plain page that says what is wrong (with `kept` and `kept_scores`: text and scores from the
    refused form, as `_typed` gives them, shown back read-only so they are not lost; `heading`: what
    happened in a few words, else one from the status); JSON for API callers."""
    if request.accept_mimetypes.best == "application/json" or request.path.startswith("/api/"):
        return {"error": message, "status": status}, status
    return render_template("error.html", status=status, message=message, kept=kept, kept_scores=kept_scores,
                           heading=heading), status
