"""An erasure looks for the teacher's sentences on the erased essays in classmates' AI feedback
(`lti_app.erasure_quotes`). A trait line Gradeloop restated with the teacher's score ("Ideas and
content: 2 of 6.", `coursework.restated_traits`) is not in the proposal, so it looked like the
teacher's words: a classmate's pending proposal with the same plain line was withdrawn as if it
quoted the erased student's comment. Gradeloop's own lines are never quotes."""
from __future__ import annotations

from lti_app.extensions import db
from lti_app.erasure_quotes import withdraw_quoting_proposals
from lti_app.models import AiProposal, FeedbackMode
from lti_app.review.decisions import decide
from tests.worker.coursework import make_assignment, two_students_and_a_teacher

ESSAY = "Cars are loud and the city should ban them from the centre on weekdays. " * 8
TRAITS = [{"name": "ideas_and_content", "min": 1, "max": 6}]


def test_restated_trait_line_is_no_quote_of_the_erased_students_comment(make_app):
    app = make_app()
    with app.app_context():
        a = make_assignment(feedback_mode=FeedbackMode.REVIEW, traits=TRAITS, score_min=1, score_max=6)
        s1, s2, teacher = two_students_and_a_teacher(a, ESSAY)
        mine = AiProposal(submission_id=s1.id, score=3, confidence=0.5, trait_scores={"ideas_and_content": 3},
                          feedback="Add a second reason.\n\nIdeas and content: 3 of 6.", status="pending",
                          essay_submitted_at=s1.submitted_at)
        theirs = AiProposal(submission_id=s2.id, score=2, confidence=0.5, trait_scores={"ideas_and_content": 2},
                            feedback="Add a second reason.\n\nIdeas and content: 2 of 6.", status="pending",
                            essay_submitted_at=s2.submitted_at)
        db.session.add_all([mine, theirs])
        db.session.commit()
        grade = decide(a, mine, {"score": 3, "trait_scores": {"ideas_and_content": 2},
                                 "comment": "Add a second reason.\r\n\r\nIdeas and content: 3 of 6."}, teacher.id)
        db.session.commit()
        assert grade.comment.endswith("Ideas and content: 2 of 6.")
        quoting = withdraw_quoting_proposals([s1.id], [a.id])
        assert quoting.withdrawn == 0, "a classmate's proposal was withdrawn for Gradeloop's own trait line"
