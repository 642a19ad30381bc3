"""Grades given blind (`Grade.blind`: the grading page hid the model's proposal, lti_app/review/blind.py)
train as given without a proposal in view, so in review mode, where every other grade was given
with the model in service's proposal shown, the gate tests a new version on the blind ones
(`retrain.holdout_indices`: every one of them, then the held-out share filled from the others) and
the comparison no longer favours the model in service."""
from __future__ import annotations

from datetime import timedelta

from lti_app.extensions import db
from lti_app.models import AiProposal, Grade, GradeSource, ModelVersion
from lti_app.models.base import utcnow
from tests.worker.coursework import add_essays, make_assignment
from worker.ml.examples import Examples
from worker.ml.retrain import holdout_indices
from worker.ml.training_set import load_examples


def test_the_held_out_essays_are_the_blind_graded_ones_in_review_mode(app):
    with app.app_context():
        a = make_assignment()
        version = ModelVersion(assignment_id=a.id, version=1, status="promoted", approach="frozen-ridge", path="m/1")
        db.session.add(version)
        db.session.flush()
        subs = add_essays(a.id, [(f"Essay {i} about phones at school, with reasons.", None) for i in range(40)])
        blind = set(subs[::5])   # 8 of 40: the held-out share is 20%, 8 essays
        then = utcnow() - timedelta(hours=1)
        for n, sub_id in enumerate(subs):
            db.session.add(AiProposal(submission_id=sub_id, model_version_id=version.id, score=1 + n % 6,
                                      trait_scores={}, confidence=0.9, feedback="Good.", unusual=[],
                                      status="approved" if sub_id not in blind else "pending", created_at=then))
            db.session.add(Grade(submission_id=sub_id, score=1 + n % 6, score_min=1, score_max=6,
                                 source=GradeSource.TEACHER if sub_id in blind else GradeSource.AI_APPROVED,
                                 blind=sub_id in blind))
        db.session.commit()
        ex = load_examples(a.id)
        held, fair = holdout_indices(ex, seen_ids=[], seed=7)
        assert fair and {ex.submission_ids[i] for i in held} == blind
        assert all(not ex.proposed_by[i] for i in held)


def _term(n_seen: int, n_new: int, n_blind: int) -> tuple[Examples, set[int]]:
    """A review-mode term in memory: `n_seen` imports the model in service learnt (graded before any
    model), then `n_new` hand-ins graded on its proposals, the first `n_blind` of them blind."""
    n = n_seen + n_new
    had = [False] * n_seen + [i >= n_blind for i in range(n_new)]
    ex = Examples(texts=["x"] * n, scores=[1 + (i * 7) % 6 for i in range(n)], score_min=1, score_max=6,
                  submission_ids=list(range(n)), had_proposal=had)
    return ex, set(range(n_seen, n_seen + n_blind))


def test_every_blind_grade_is_held_out_though_they_are_fewer_than_the_held_out_share():
    # A blindwalk term: 100 imports v1 learnt, 40 hand-ins of which 11 blind, 28 held out. Before,
    # blind grades were preferred only when they alone filled the 28: 7 of the 11 were held out.
    ex, blind = _term(100, 40, 11)
    for seed in range(20):
        held, fair = holdout_indices(ex, list(range(100)), seed=seed)
        assert fair and len(held) == 28 and blind <= set(held), (seed, len(blind & set(held)))
        assert all(i >= 100 for i in held)   # the rest filled from the unseen hand-ins only
        filled = [ex.scores[i] for i in held if i not in blind]
        assert len(set(filled)) >= 5, filled   # spread over the score range


def test_blind_grades_beyond_the_held_out_share_are_spread_over_the_scores():
    ex, blind = _term(20, 60, 40)    # k = 16 of 40 blind
    held, fair = holdout_indices(ex, list(range(20)), seed=3)
    assert fair and len(held) == 16 and set(held) <= blind
    assert len({ex.scores[i] for i in held}) == 6


def test_without_blind_grades_the_held_out_essays_are_drawn_as_before():
    ex, _ = _term(100, 40, 0)
    held, fair = holdout_indices(ex, list(range(100)), seed=140)
    assert fair and len(held) == 28 and all(i >= 100 for i in held)
