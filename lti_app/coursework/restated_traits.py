"""A machine-written trait line restated when the teacher changes that trait's score and keeps the
AI's feedback (a proposal on the review page, an auto-released or approved AI grade on the grading
page). The line as generated states the model's score ("Evidence (3 of 5): <a sentence chosen for
a 3>"), which beside the teacher's score contradicts it on the student's page and in the LMS; it
becomes the plain "Evidence: 1 of 5.", or goes when the teacher cleared the score ("no trait score,
no line", as the composer does). A line the teacher edited is theirs and stays as it is.
"""
from __future__ import annotations

from worker.feedback import trait_line


def restated_trait_lines(traits: list[dict] | None, model_scores: dict | None, generated: str | None,
                         data: dict) -> tuple[str, list[tuple]]:
    """`data`'s comment with the generated line of each trait whose score changed from
    `model_scores` restated (see the module docstring), and [(the trait's title, its new line or
    None), ...]. Only a line exactly as `generated` (the machine-written feedback) has it counts as
    generated: its sentence was chosen for the model's score, so it goes too."""
    proposed = {k: float(v) for k, v in (model_scores or {}).items() if v is not None}
    given = {k: float(v) for k, v in (data.get("trait_scores") or {}).items() if v is not None}
    tops = {t["name"]: t.get("max") for t in traits or []}
    machine = {line.strip() for line in (generated or "").splitlines()}
    lines = (data.get("comment") or "").splitlines(keepends=True)
    restated = []
    for name in proposed:
        if given.get(name) == proposed[name]:
            continue
        line = trait_line.line_of(name)
        new = trait_line.score_line(name, given[name], tops.get(name)) if name in given else None
        found = False
        for i, text in enumerate(lines):
            said = text.strip()
            if said in machine and line.match(said):
                lines[i] = "" if new is None else new + text[len(text.rstrip("\r\n")):]
                found = True
        if found:
            restated.append((trait_line.title(name), new))
    comment = "".join(lines)
    return (comment.rstrip() if any(new is None for _, new in restated) else comment), restated


def restated_words(restated: list[tuple]) -> list[tuple[str, str]]:
    """The notice saying what saving did to the feedback's trait lines: the teacher sees that words
    they did not type reached the student."""
    said = [f"The feedback's {title} line now says “{new}”, the score you gave, instead of the line written "
            "for the proposed score." if new else
            f"The feedback's {title} line was taken out: you gave no {title} score." for title, new in restated]
    return [("warning", " ".join(said))] if said else []
