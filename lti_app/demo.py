"""Demo data for `gradeloop run`: the sandbox's demo course gets an essay assignment on its
placement `essay-feedback`, with previously graded essays (real PERSUADE 2.0 essays and their
holistic scores from `../shared/data/persuade/<prompt>/train.csv`) and teacher comments per score
band, so the worker trains a course model right away and AI proposals start with the first student.

Without the data folder the assignment is still created, only without graded essays. Seeding is
idempotent: an assignment already on the placement is left alone. The end-to-end tests build their
imported CSV with `graded_rows` + `graded_csv` too.
"""
from __future__ import annotations

import csv
import io
import logging
import random
from pathlib import Path

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
DEMO_PROMPT = "0"   # "The Face on Mars" (text dependent)
DEMO_COURSE = "sandbox-course"
DEMO_LINK = "essay-feedback"
DEMO_TITLE = "The Face on Mars"
DEMO_INSTRUCTIONS = (
    "You have read the article \"Unmasking the Face on Mars.\" Imagine you are a NASA scientist talking "
    "with someone who thinks the Face was created by aliens. Using information in the article, write an "
    "argumentative essay to convince someone that the Face is just a natural landform.")

# What a teacher writes at each holistic score (1-6): varied, specific to the skill, no names.
COMMENTS: dict[int, list[str]] = {
    1: ["Your essay needs a clear claim in the first paragraph so the reader knows what you will argue. "
        "Use at least two facts from the article to support it.",
        "This response is very short and does not yet answer the prompt. Explain why the Face is a "
        "natural landform and use evidence from the article.",
        "Start by stating your position, then give reasons from the text. Check capital letters and "
        "end punctuation in every sentence."],
    2: ["You state an opinion, but the reasons are thin. Bring in details from the article, like the "
        "higher resolution photos, and explain what they prove.",
        "Organize your ideas into paragraphs: one for your claim, one for each reason, and a conclusion. "
        "Several sentences run together, so read your essay aloud to find them.",
        "Your evidence is mostly retelling the article. Explain how each detail shows the Face is a "
        "landform instead of just repeating it."],
    3: ["Your claim is clear and you use some evidence from the article. Explain each piece of evidence "
        "more fully so the reader sees how it supports your argument.",
        "Good start on the counterargument about aliens. Answer it with specific facts from the text "
        "rather than your opinion alone.",
        "The paragraphs are in a sensible order, but transitions between them are missing. Watch spelling "
        "and the use of lower-case i."],
    4: ["A solid argument with relevant evidence from the article. Push your analysis further by "
        "explaining why the 2001 images are more convincing than the 1976 photo.",
        "Your organization works well and the conclusion restates your claim. Vary your sentence "
        "beginnings to make the writing flow better.",
        "Clear position and good use of the text. Address the opposing view directly and explain why "
        "it does not hold up."],
    5: ["A convincing essay with well-chosen evidence and clear reasoning. Tighten a few long sentences "
        "so every point lands.",
        "Strong organization and smooth transitions. Your explanation of the landform comparison is "
        "especially effective; a sharper conclusion would finish it well.",
        "You weave evidence from the article into your argument skillfully. Watch for small slips in "
        "punctuation near quotations."],
    6: ["An excellent, insightful argument. Evidence is precise, the counterargument is handled with "
        "care, and the conclusion leaves the reader convinced.",
        "Sophisticated reasoning and a confident voice throughout. Your use of the article's details is "
        "precise and always explained.",
        "Outstanding organization and word choice. This essay anticipates objections and answers each "
        "one with evidence from the text."],
}


def persuade_csv(prompt: str = DEMO_PROMPT, data_dir: Path | None = None) -> Path | None:
    path = (data_dir or DATA_DIR) / "persuade" / prompt / "train.csv"
    return path if path.is_file() else None


def graded_rows(n: int = 100, *, prompt: str = DEMO_PROMPT, data_dir: Path | None = None, seed: int = 0,
                skip: int = 0) -> list[dict]:
    """`n` essays of the prompt's train split (a fixed shuffle; `skip` the first ones) as
    {text, score, comment}; [] when the data folder is absent."""
    path = persuade_csv(prompt, data_dir)
    if path is None:
        return []
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    random.Random(seed).shuffle(rows)
    out = []
    for i, row in enumerate(rows[skip:skip + n]):
        score = int(float(row["holistic_essay_score"]))
        bank = COMMENTS.get(score, COMMENTS[3])
        out.append({"text": row["full_text"], "score": score, "comment": bank[i % len(bank)]})
    return out


def graded_csv(rows: list[dict]) -> bytes:
    """The teacher's import file (columns text, score, comment)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["text", "score", "comment"])
    writer.writeheader()
    writer.writerows({k: r[k] for k in ("text", "score", "comment")} for r in rows)
    return buf.getvalue().encode("utf-8")


def seed_demo_assignment(app, platform_id: int, *, n: int = 100, data_dir: Path | None = None) -> int | None:
    """Create the demo course's assignment with `n` graded essays and ask the worker to train.
    Returns the assignment id (None when it already existed)."""
    from lti_app.coursework.assignments import new_resource_id
    from lti_app.coursework.imports import import_rows
    from lti_app.extensions import db
    from lti_app.models import Assignment, Course, ResourceLink

    with app.app_context():
        course = db.session.scalar(db.select(Course).filter_by(platform_id=platform_id, context_id=DEMO_COURSE))
        if course is None:
            course = Course(platform_id=platform_id, context_id=DEMO_COURSE, title="Sandbox Demo Course",
                            label="DEMO-101")
            db.session.add(course)
            db.session.flush()
        link = db.session.scalar(db.select(ResourceLink).filter_by(course_id=course.id, resource_link_id=DEMO_LINK))
        if link is None:
            link = ResourceLink(course_id=course.id, resource_link_id=DEMO_LINK, title="Essay feedback (Gradeloop)")
            db.session.add(link)
            db.session.flush()
        if db.session.scalar(db.select(Assignment.id).filter_by(resource_link_id=link.id)):
            db.session.rollback()
            return None
        assignment = Assignment(course_id=course.id, resource_link_id=link.id, title=DEMO_TITLE,
                                prompt=DEMO_INSTRUCTIONS, score_min=1, score_max=6, traits=[],
                                resource_id=new_resource_id())
        db.session.add(assignment)
        db.session.flush()
        rows = [{**r, "trait_scores": {}} for r in graded_rows(n, data_dir=data_dir)]
        if rows:
            import_rows(assignment, rows, grader_id=None)   # records training.due for the worker
        else:
            log.info("demo: no essays at %s; the demo assignment starts without graded essays",
                     (data_dir or DATA_DIR) / "persuade" / DEMO_PROMPT)
        db.session.commit()
        log.info("demo: assignment %s %r with %s graded essays", assignment.id, DEMO_TITLE, len(rows))
        return assignment.id
