"""One line per scored trait: the teacher's own sentence about it, else what the next score up
looks like in the teacher's words, else the score alone.

The sentence comes from a comment that names the trait, on an essay the teacher scored the
same (or one off) on that trait. Without one, the line states the predicted trait score on its
scale and, where the course has it, quotes what the teacher wrote about the trait on a similar
essay scored up to one point higher, said to be from that essay ("On an essay scored 3 of 5 for
cohesion, the teacher wrote: ..."; never for a stub or an essay of one or two sentences, never
words that make errors small, never a remark about that essay's own content: `select`). Never how many graded essays scored higher: "all essays
graded for this assignment scored higher" told the weakest writer in the class that every
classmate did better, which feedback research finds discourages low achievers, and no teacher
would write it. No trait score, no line.
"""
from __future__ import annotations

from worker.feedback.records import number
from worker.feedback.retrieval import Candidate, CourseIndex
from worker.feedback.select import next_step_sentence, trait_sentence
from worker.feedback.trait_line import on_scale, score_line, title as trait_title


def trait_lines(index: CourseIndex, sims, traits, trait_scores: dict,
                taken: list[Candidate], *, teacher_voice: bool = True,
                issues: dict[str, float] | None = None) -> list[dict]:
    """`teacher_voice=False`: scores only (an off-topic essay gets no teacher sentences).
    `issues`: the essay's measured issues, whose aspects' praise is never quoted."""
    parts = []
    for trait in traits:
        name = trait["name"]
        value = number((trait_scores or {}).get(name))
        if value is None:
            continue
        top = number(trait.get("max"))
        scale = on_scale(value, top)
        title = trait_title(name)
        evidence = {"trait": name, "score": value}
        found = trait_sentence(index, sims, trait, value, taken, issues) if teacher_voice else None
        if found:
            cand, tier = found
            taken.append(cand)
            parts.append({"kind": "trait", "text": f"{title} ({scale}): {cand.text}",
                          "evidence": {**evidence, "source": "teacher_comment",
                                       "example": cand.example, "example_score": cand.score,
                                       "tier": tier, "sentence": cand.text}})
            continue
        ahead = next_step_sentence(index, sims, trait, value, taken, issues) if teacher_voice else None
        if ahead:
            cand, there = ahead
            taken.append(cand)
            # Said to be another essay's comment: a stronger essay's "Your transitions are smooth"
            # must not read as said of this one.
            parts.append({"kind": "trait",
                          "text": f"{title}: {scale}. On an essay scored {on_scale(there, top)} for "
                                  f"{name.replace('_', ' ')}, the teacher wrote: \"{cand.text}\"",
                          "evidence": {**evidence, "source": "next_step", "example": cand.example,
                                       "example_score": cand.score, "example_trait_score": there,
                                       "sentence": cand.text}})
            continue
        parts.append({"kind": "trait", "text": score_line(name, value, top),
                      "evidence": {**evidence, "source": "prediction"}})
    return parts
