"""Which graded essays the promotion gate judges on (`retrain.holdout_indices`)."""
from __future__ import annotations

from worker.ml.examples import Examples
from worker.ml.retrain import holdout_indices


def _course(n: int, approved: set[int]) -> Examples:
    """`approved`: essays graded with a model's proposal in view (kept or changed)."""
    return Examples(texts=[f"essay {i}" for i in range(n)], scores=[1 + i % 6 for i in range(n)], score_min=1,
                    score_max=6, submission_ids=list(range(100, 100 + n)),
                    had_proposal=[i in approved for i in range(n)])


def test_essays_graded_with_a_proposal_in_view_are_held_out_only_when_too_few_others_are():
    """Where the teacher saw the current model's score, agreeing with it is partly its own doing:
    essays graded without one are judged on when there are enough of them."""
    approved = set(range(0, 100, 2))                      # half the grades are approved proposals
    held, fair = holdout_indices(_course(100, approved), seen_ids=[], seed=3)
    assert len(held) == 20 and fair and not set(held) & approved
    # The same course without approvals holds out some of those essays (the rule is what excludes them).
    held_any, _ = holdout_indices(_course(100, set()), seen_ids=[], seed=3)
    assert set(held_any) & approved


def test_unseen_essays_first_and_approvals_only_when_nothing_else_is_left():
    ex = _course(50, approved={0, 1, 2})
    seen = [100 + i for i in range(3, 45)]                 # the current model trained on 42 essays
    held, fair = holdout_indices(ex, seen_ids=seen, seed=0)
    assert not fair and not set(held) & {0, 1, 2}         # 5 unseen essays < the 10 needed
    held, fair = holdout_indices(_course(10, approved=set(range(8))), seen_ids=[], seed=0)
    assert len(held) == 5                                  # a tiny course of approvals still gets a gate


def test_after_a_promotion_the_newest_grades_are_the_held_out_set():
    """The current model learnt 100 grades; 20 new ones arrived. Holding out 20% (24) would need
    4 essays the current model trained on, handing it the comparison: the 20 new ones are judged."""
    ex = _course(120, approved=set())
    held, fair = holdout_indices(ex, seen_ids=[100 + i for i in range(100)], seed=0)
    assert fair and held == list(range(100, 120))
    held, fair = holdout_indices(ex, seen_ids=[100 + i for i in range(110)], seed=0)
    assert not fair and len(held) == 24                   # 10 new grades are too few to judge on


def test_reviewed_essays_are_judged_on_together_whatever_the_teacher_did_with_the_score():
    """Review mode after a promotion: the 20 new grades all had a proposal, and they are the fair
    held-out set. All 20 are judged on, kept scores and changed ones alike: holding out only the
    changed ones (the current model wrong by construction) or only the kept ones (right by
    construction) would decide the comparison before it is made."""
    ex = _course(120, approved=set(range(100, 120)))
    held, fair = holdout_indices(ex, seen_ids=[100 + i for i in range(100)], seed=0)
    assert fair and held == list(range(100, 120))

