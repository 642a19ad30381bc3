"""One line per scored trait: the teacher's own sentence about it, else the course's numbers.

The sentence comes from a comment that names the trait, on an essay the teacher scored the
same (or one off) on that trait. Without one, the line states the predicted trait score next
to how many of the assignment's graded essays scored higher on it, in words. No trait score, no line.
"""
from __future__ import annotations

from worker.feedback.points import share_words
from worker.feedback.records import number
from worker.feedback.retrieval import Candidate, CourseIndex
from worker.feedback.select import trait_sentence


def _fmt(x) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:.1f}"


def trait_lines(index: CourseIndex, sims, traits, trait_scores: dict,
                taken: list[Candidate], *, teacher_voice: bool = True,
                issues: dict[str, float] | None = None) -> list[dict]:
    """`teacher_voice=False`: numbers only (an off-topic essay gets no teacher sentences).
    `issues`: the essay's measured issues, whose aspects' praise is never quoted."""
    parts = []
    for trait in traits:
        name = trait["name"]
        value = number((trait_scores or {}).get(name))
        if value is None:
            continue
        top = number(trait.get("max"))
        scale = f"{_fmt(value)} of {_fmt(top)}" if top is not None else _fmt(value)
        title = name.replace("_", " ").capitalize()
        found = trait_sentence(index, sims, trait, value, taken, issues) if teacher_voice else None
        if found:
            cand, tier = found
            taken.append(cand)
            parts.append({"kind": "trait", "text": f"{title} ({scale}): {cand.text}",
                          "evidence": {"trait": name, "score": value, "source": "teacher_comment",
                                       "example": cand.example, "example_score": cand.score,
                                       "tier": tier, "sentence": cand.text}})
            continue
        course = [v for v in (number((e.trait_scores or {}).get(name)) for e in index.examples)
                  if v is not None]
        if not course:
            parts.append({"kind": "trait", "text": f"{title}: {scale}.",
                          "evidence": {"trait": name, "score": value, "source": "prediction"}})
            continue
        above = sum(1 for c in course if c > float(value)) / len(course)
        # Words a student reads ("about 4 in 10 essays ... scored higher"), not "median 2, 40%".
        parts.append({"kind": "trait",
                      "text": f"{title}: {scale} ({share_words(above, 'essays')} graded for this "
                              "assignment scored higher).",
                      "evidence": {"trait": name, "score": value, "source": "course_trait_scores",
                                   "graded": len(course), "share_higher": round(above, 3)}})
    return parts
