"""The LMS's `Retry-After` (seconds or an HTTP date) travels on the temporary error the client
raises, capped at an hour, so the worker waits as long as the LMS asked (a 503 maintenance page,
a 429, Canvas's 403 "Rate Limit Exceeded")."""
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
import requests

from lti_app.extensions import db
from lti_app.lms import ags
from lti_app.lms.client import RETRY_AFTER_MAX_S, LmsClient, raise_for_status
from lti_app.lms.errors import LmsTemporaryError
from lti_app.models import Platform
from tests.coursework.flows import COURSE


def _answer(status: int, retry_after: str | None, body: bytes = b"{}", reason: str = "") -> requests.Response:
    response = requests.Response()
    response.status_code, response._content, response.reason = status, body, reason
    response.url = "https://moodle.example/mod/lti/services.php/2/lineitems/7/lineitem/scores"
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return response


def _asked(response: requests.Response) -> float | None:
    with pytest.raises(LmsTemporaryError) as raised:
        raise_for_status(response, "the score")
    return raised.value.retry_after


def test_retry_after_in_seconds_or_as_a_date_capped_at_an_hour():
    assert _asked(_answer(503, "120")) == 120
    assert _asked(_answer(429, " 7 ")) == 7
    assert _asked(_answer(403, "30", b"403 Forbidden (Rate Limit Exceeded)", "Forbidden")) == 30   # Canvas
    in_ten_minutes = format_datetime(datetime.now(timezone.utc) + timedelta(minutes=10), usegmt=True)
    assert 590 <= _asked(_answer(503, in_ten_minutes)) <= 600
    assert _asked(_answer(503, "Wed, 21 Oct 2015 07:28:00 GMT")) == 0          # already past
    assert _asked(_answer(503, "86400")) == RETRY_AFTER_MAX_S == 3600           # a day: an hour
    assert _asked(_answer(503, "99999999999999999999")) is None                 # not a sane number
    for unreadable in ("soon", "-5", "1.5", "", None):
        assert _asked(_answer(503, unreadable)) is None, unreadable


def test_the_sandbox_lms_retry_after_reaches_the_error(peer, tool_server):
    peer.fail_next(1, status=429)
    with tool_server.app.app_context():
        client = LmsClient.for_platform(db.session.scalar(db.select(Platform)))
        with pytest.raises(LmsTemporaryError) as raised:
            client.get_json(peer.state.lineitems_url(COURSE), [ags.SCOPE_LINEITEM], "the line item list",
                            accept=ags.MT_LINEITEMS)
    assert raised.value.status == 429 and raised.value.retry_after == 1
