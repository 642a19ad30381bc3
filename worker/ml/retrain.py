"""One course retrain on plain data, exactly as the worker runs it (no Flask, no database):
hold out ~20% of the teacher grades, train on the rest (approach by CV QWK), evaluate on the
held-out essays, then refit on every grade reusing the cached embeddings.

`pipeline.train_assignment` wraps this with the database, the gate and the export; the
benchmark and `scripts/gpu_check.sh` call it directly so their timings are the worker's.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from worker.ml import trait_checks
from worker.ml.examples import Examples
from worker.ml.metrics import compute_metrics, group_key
from worker.ml.trainer import TrainConfig, TrainedModel, train

HOLDOUT_SHARE = 0.2
MIN_HOLDOUT = 5
FAIR_MIN_HOLDOUT = 20   # unseen essays enough for a fair (if smaller) held-out set


@dataclass
class Retrained:
    held_out_model: TrainedModel
    held: list[int]                 # indices of the held-out essays
    fair: bool                      # held-out essays unseen by the current model
    metrics: dict                   # held-out model vs teacher on the held-out essays
    held_out_scores: np.ndarray     # its integer predictions there
    seconds: float
    cache: dict                     # text -> embedding, for the refit

    def refit(self, examples: Examples, config: TrainConfig, progress=None) -> tuple[TrainedModel, float]:
        """The shipped model: all grades, same config, fine-tuning off (a fine-tuned held-out
        model ships as it is instead; see docs/models.md)."""
        if self.held_out_model.approach == "finetune":
            return self.held_out_model, 0.0
        started = time.monotonic()
        final = train(examples, replace(config, finetune="never"), progress=progress, embed_cache=self.cache)
        return final, time.monotonic() - started


def holdout_indices(examples: Examples, seen_ids, seed: int) -> tuple[list[int], bool]:
    """~20% held out, spread over the score range; preferably essays the current model never
    trained on (`seen_ids`), so comparing the two is fair, and among those every essay the teacher
    graded without a model's proposal in view (`Examples.had_proposal` False: blind grades, grades
    given before any model) first, the rest of the held-out share filled from the others. Where a
    proposal was shown, a score the teacher kept is the current model's own (it agrees there by
    construction) and one they changed is where it was wrong: both, or neither, are judged on,
    never one side, or the comparison would lean towards one model. The essays graded without its
    proposal are the ones the comparison can be decided on (`gate.compared_on`); in review mode the
    blind check gives about one hand-in in five, so all of them are needed, not only when they
    alone fill the held-out share."""
    n = len(examples)
    k = max(MIN_HOLDOUT, int(round(n * HOLDOUT_SHARE)))
    rng = np.random.default_rng(seed)
    seen = set(seen_ids or [])
    proposed = examples.had_proposal or [False] * n
    unseen = [i for i in range(n) if i >= len(examples.submission_ids) or examples.submission_ids[i] not in seen]
    # Right after a promotion the current model learnt every grade but the newest (20 new grades
    # by default before the next retrain): fewer than 20% are unseen once a course passes 100
    # grades. Judging on essays the current model trained on would favour it, so the newest
    # grades alone are the held-out set when there are FAIR_MIN_HOLDOUT of them.
    fair = len(unseen) >= min(k, FAIR_MIN_HOLDOUT)
    if fair:
        pool, k = unseen, min(k, len(unseen))
    else:
        pool = list(range(n))
    unprompted = [i for i in pool if not proposed[i]]
    if len(unprompted) >= k:
        return _spread(examples, unprompted, k, rng), fair
    unprompted_set = set(unprompted)
    rest = [i for i in pool if i not in unprompted_set]
    return sorted(unprompted + _spread(examples, rest, k - len(unprompted), rng)), fair


def _spread(examples: Examples, pool: list[int], k: int, rng) -> list[int]:
    """`k` of `pool` (sorted indices), one drawn at random from each of k equal slices of the pool
    ordered by score: spread over the score range."""
    if k <= 0:
        return []
    order = sorted(rng.permutation(pool).tolist(), key=lambda i: examples.scores[i])
    step = len(order) / k
    return sorted({order[min(len(order) - 1, int(j * step + rng.integers(0, max(1, int(step)))))]
                   for j in range(k)})


def retrain(examples: Examples, config: TrainConfig, seen_ids=None, progress=None) -> Retrained:
    started = time.monotonic()
    held, fair = holdout_indices(examples, seen_ids, seed=config.seed + len(examples))
    held_set = set(held)
    fit_set = examples.subset([i for i in range(len(examples)) if i not in held_set])
    held_ex = examples.subset(held)
    cache: dict = {}
    model = train(fit_set, config, progress=progress, embed_cache=cache)
    scores = model.predict(held_ex.texts)
    pred = scores[:, 0]
    metrics = held_out_metrics(examples, held, pred.tolist())
    if examples.traits:   # each trait against the teacher too (`trait_checks`: they hold auto-release)
        metrics["traits"] = trait_checks.measure(held_ex, scores)
    return Retrained(model, held, fair, metrics, pred, time.monotonic() - started, cache)


def held_out_metrics(examples: Examples, held: list[int], pred: list) -> dict:
    """`compute_metrics` of the held-out essays' predictions `pred`. When the assignment has
    group-labelled essays but none of them is held out (after the first version the held-out set
    is this term's hand-ins, which no LMS labels; the labels sit on imports the models trained on),
    `labelled_outside_held_out` counts them: the gate and the dashboard then say the group check
    did not run, instead of passing in silence."""
    held_ex = examples.subset(held)
    overall = examples.targets[0]   # training units: a half-point course's doubled scale
    metrics = compute_metrics([int(s) for s in held_ex.scores], pred, overall.lo, overall.hi, held_ex.groups or None,
                              step=overall.step)
    labelled = sum(1 for g in examples.groups if group_key(g))
    if labelled and "smd_by_group" not in metrics:
        metrics["labelled_outside_held_out"] = labelled
    return metrics
