"""How the sandbox LMS takes a score when it plays Canvas or Moodle (`PlatformState.product_family`),
so that tests catch a tool that works only against the sandbox's own lenient rules.

- Canvas (canvas-lms `Lti::IMS::ScoresController#new_submission?` and `#create`): a score whose
  `https://canvas.instructure.com/lti/submission` extension is missing, or says `new_submission`
  true, with a submission type other than "none" (default "external_tool"), is a new submission
  attempt (`submit_homework`: the essay text of the attempt before is no longer the current one,
  and `submitted_at` is now unless the extension gives one). Once the assignment's attempts are
  used up (`PlatformState.max_attempts`), such a score is refused with 422.
- Moodle (`mod/lti/service/gradebookservices/.../resources/scores.php`): a score is refused with
  409 when the grade's stored time is in the same or a later whole second than the score's
  `timestamp`. The time stored is Moodle's own clock on an activity's grade item (one made with
  the placement: `update_raw_grade`) and for a score without `scoreGiven`, else the timestamp.
  Canvas refuses a score older than the one it holds with 400 (`verify_valid_timestamp`: "before
  last updated timestamp").
- Otherwise (the sandbox's own rules): a score older than the one held is refused with 409.
"""
from __future__ import annotations

import math
from datetime import datetime, timezone

from lti_app.sandbox.services import ServiceError
from lti_app.sandbox.state import PlatformState

CANVAS_SUBMISSION = "https://canvas.instructure.com/lti/submission"


def canvas_new_submission(score: dict) -> bool:
    ext = score.get(CANVAS_SUBMISSION)
    ext = ext if isinstance(ext, dict) else {}
    flag = ext.get("new_submission")
    return (flag is None or bool(flag)) and (ext.get("submission_type") or "external_tool") != "none"


def _refuse_older(item_id: int, user_id: str, held: dict) -> None:
    # Moodle's words and status; the spec only says the later timestamp wins.
    raise ServiceError(409, f"Refusing score with an earlier timestamp for item {item_id} and user {user_id}: "
                            f"{held['timestamp']} is already recorded", "conflict")


def take_score(st: PlatformState, item_id: int, data: dict, when: datetime) -> datetime:
    """Check the score against what the LMS holds (the caller holds the lock); the time to keep
    with it. Counts a Canvas submission attempt."""
    key = (item_id, data["userId"])
    held = st.results.get(key)
    family = st.product_family
    if family == "moodle":
        scored = data.get("scoreGiven") is not None
        kept = when if scored and not st.line_items[item_id].get("activity") else datetime.now(timezone.utc)
        if held is not None and math.floor(held["_when"].timestamp()) >= math.floor(when.timestamp()):
            _refuse_older(item_id, data["userId"], held)
        return kept
    if held is not None and held["_when"] > when:
        if family == "canvas":
            raise ServiceError(400, f"Provided timestamp of {data['timestamp']} before last updated timestamp of "
                                    f"{held['timestamp']}", "bad_request")
        _refuse_older(item_id, data["userId"], held)
    if family == "canvas" and canvas_new_submission(data):
        if st.max_attempts is not None and st.attempts.get(key, 0) >= st.max_attempts:
            raise ServiceError(422, "The maximum number of allowed attempts has been reached for this submission",
                               "unprocessable_entity")
        st.attempts[key] = st.attempts.get(key, 0) + 1
    return when
