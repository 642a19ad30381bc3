"""What the review queue tells the teacher approving proposals: the page itself sends the approved
grade to the LMS gradebook (`lms_sync`), but the course model learns from it only when a worker
that trains runs (`worker_presence`), so the queue promises training only then."""
from __future__ import annotations

import re

import pytest

from lti_app.extensions import db
from lti_app.models import AiProposal, Role
from lti_app.worker_presence import GRADEBOOK, SCORING, TRAINING
from tests.coursework.helpers import build_world, login
from tests.heartbeats import beat

PROMISE = "teaches the course model"


def _queue_line(app, client) -> str:
    """The queue page's line about approving, whitespace made plain, for a teacher with one proposal."""
    world = build_world(app)
    with app.app_context():
        db.session.add(AiProposal(submission_id=world.essay_a, score=4, confidence=0.5, trait_scores={},
                                  feedback="Clear.", status="pending", unusual=[]))
        db.session.commit()
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
          platform_id=world.platform)
    page = client.get(f"/review/a/{world.assignment_a}")
    assert page.status_code == 200
    line = re.search(r"Approving or editing.*?</p>", page.get_data(as_text=True), re.S)
    assert line, page.get_data(as_text=True)[:2000]
    return " ".join(line.group(0).split())


def test_without_a_worker_approving_does_not_promise_training(app, client):
    line = _queue_line(app, client)
    assert "sends it to the LMS gradebook" in line, "the page sends the grade itself"
    assert PROMISE not in line
    assert "The course model learns from it once a Gradeloop background worker that trains models is running." in line


@pytest.mark.parametrize("kinds, promised", [
    ((SCORING, TRAINING, GRADEBOOK), True),
    ((TRAINING,), True),                        # a GPU box serving only training
    ((SCORING, GRADEBOOK), False),              # nothing trains
])
def test_training_is_promised_only_while_a_worker_trains(app, client, kinds, promised):
    beat(app, kinds)
    line = _queue_line(app, client)
    assert "sends it to the LMS gradebook" in line
    assert (PROMISE in line) is promised, line
