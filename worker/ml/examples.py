"""Plain training data: essays, scores on an integer scale, optional traits and group labels.

Scores, ranges and trait ranges are in training units: whole numbers. A target graded in half
points (`steps`: 0.5) is on the doubled scale (1-6 becomes 2..12; 3.5 trains as 7), and the model
it trains gives its scores back in the assignment's own units (`Target.step`, `scorer`).

Framework-free (no Flask, no torch): the worker builds it from the database
(`training_set.load_examples`), the benchmark and the GPU check build it from CSV files.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Target:
    """One output of the model: the overall score or a trait, with its integer scale in training
    units; `step` is what one unit is worth on the assignment's scale (0.5 for a half-point target)."""

    name: str
    lo: int
    hi: int
    step: float = 1.0

    def units(self, value) -> int:
        """A score in the assignment's units (3.5) as training units (7 at step 0.5), to the nearest
        unit, halves going up (as `training_set.whole_score`), clipped into lo..hi."""
        return min(self.hi, max(self.lo, math.floor(float(value) / self.step + 0.5)))

    def in_scale(self, units):
        """Training units back in the assignment's units: an int at step 1, else a float (7 -> 3.5)."""
        return int(units) if self.step == 1 else float(units) * self.step

    def normalise(self, values) -> np.ndarray:
        return (np.asarray(values, dtype=float) - self.lo) / max(1, self.hi - self.lo)

    def denormalise(self, values) -> np.ndarray:
        return self.lo + np.asarray(values, dtype=float) * max(1, self.hi - self.lo)


@dataclass
class Examples:
    texts: list[str]
    scores: list[float]
    score_min: int
    score_max: int
    traits: list[dict] = field(default_factory=list)          # [{"name", "min", "max"}], training units
    trait_scores: list[dict] = field(default_factory=list)    # per essay {name: score}
    groups: list[str | None] = field(default_factory=list)
    submission_ids: list[int] = field(default_factory=list)
    # per essay: a model proposed a score before the teacher graded it (whether the teacher kept
    # or changed it). Held out only when too few other essays are (`retrain.holdout_indices`).
    had_proposal: list[bool] = field(default_factory=list)
    # per essay: {model version id: the score it proposed} of the proposals in view when the teacher
    # graded it. Where the teacher kept the version in service's score, it agrees by construction
    # (`pipeline._note_own_proposals`); its traits are not judged again on these essays.
    proposed_by: list[dict] = field(default_factory=list)
    # per essay: the traits whose score judges a trait: graded by hand, imported, or an edited
    # proposal's (kept and changed alike); an approved proposal's are the model's. Only these judge a trait
    # (`trait_checks.measure`); training uses every trait score. Empty list: all are the teacher's.
    trait_chosen: list[frozenset] = field(default_factory=list)
    # {target name ("overall" or a trait's): step}: 0.5 where the teacher grades in half points
    # (`training_set.load_examples`), so that target's scores and range above are doubled. A target
    # not named here steps by 1.
    steps: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def targets(self) -> list[Target]:
        out = [Target("overall", int(self.score_min), int(self.score_max), self.step("overall"))]
        out += [Target(str(t["name"]), int(t["min"]), int(t["max"]), self.step(str(t["name"]))) for t in self.traits]
        return out

    def step(self, name: str) -> float:
        return float(self.steps.get(name, 1))

    def y_matrix(self) -> np.ndarray:
        """Scores in score units, one column per target.

        A grade without a given trait score borrows the overall score mapped onto the trait's
        scale, so one missing trait does not drop the essay from training.
        """
        targets = self.targets
        overall = targets[0]
        Y = np.zeros((len(self), len(targets)))
        Y[:, 0] = self.scores
        for j, t in enumerate(targets[1:], 1):
            for i in range(len(self)):
                given = (self.trait_scores[i] or {}).get(t.name) if self.trait_scores else None
                Y[i, j] = (float(given) if given is not None
                           else t.denormalise(overall.normalise(self.scores[i])))
        return Y

    def subset(self, idx) -> "Examples":
        pick = lambda seq: [seq[i] for i in idx] if seq else []  # noqa: E731
        return Examples(texts=pick(self.texts), scores=pick(self.scores), score_min=self.score_min,
                        score_max=self.score_max, traits=self.traits,
                        trait_scores=pick(self.trait_scores), groups=pick(self.groups),
                        submission_ids=pick(self.submission_ids), had_proposal=pick(self.had_proposal),
                        proposed_by=pick(self.proposed_by), trait_chosen=pick(self.trait_chosen),
                        steps=self.steps)
