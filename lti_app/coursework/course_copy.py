"""Course copy: a Gradeloop link copied into another course (a new term's course copy in Canvas or
Moodle) still names the original assignment in its `gradeloop_assignment` custom parameter.

The first teacher launch there sets up a new assignment (the copy's students, essays and
gradebook column are its own), with the original's description filled in and its settings
(`SETTINGS`: auto-feedback, anonymous grading, second versions, ...) copied, and, if this teacher also
grades the original course, an offer to bring its graded essays as training data: copied like a
CSV import (text, score, traits, group label; no student, no comment; who wrote the original is
noted for erasure only), so the new course's model starts from the teacher's standard instead of
from nothing. Only assignments of the same LMS platform are looked at. A copy of a copy still
names the first term's assignment (the LMS copies the parameter unchanged), so the newest earlier
term this teacher grades is offered (`_lineage`).
"""
from __future__ import annotations

from dataclasses import dataclass

from lti_app.coursework.schemas import traits_text
from lti_app.extensions import db
from lti_app.lms.gradebook import is_grader
from lti_app.models import Assignment, Course, ResourceLink, Submission

CUSTOM_PARAM = "gradeloop_assignment"   # the link's custom parameter naming our assignment


@dataclass
class CopySource:
    assignment: Assignment
    course_title: str
    graded: int          # essays that count as training data
    may_copy_essays: bool


def _lineage(resource_id: str, platform_id: int, course_id: int) -> list[tuple[int, int]]:
    """(assignment id, course id) of the assignment named `resource_id` and of every copy of it in
    other courses, oldest first. The LMS copies a link's custom parameters unchanged, so a copy of
    a copy (term 3 made from term 2) still names the first term's assignment; the copies are the
    assignments whose links carry that name too. The JSON's text narrows the rows in SQL (the same
    on SQLite and PostgreSQL); the parameter itself is compared here."""
    rows = db.session.execute(
        db.select(Assignment.id, Assignment.course_id, Assignment.resource_id, ResourceLink.custom)
        .join(Course, Course.id == Assignment.course_id)
        .outerjoin(ResourceLink, ResourceLink.id == Assignment.resource_link_id)
        .where(Course.platform_id == platform_id, Assignment.course_id != course_id,
               db.or_(Assignment.resource_id == resource_id,
                      db.cast(ResourceLink.custom, db.String).contains(resource_id)))
        .order_by(Assignment.id)).all()
    return [(a_id, c_id) for a_id, c_id, own, custom in rows
            if own == resource_id or str((custom or {}).get(CUSTOM_PARAM) or "")[:100] == resource_id]


def copy_source(link: ResourceLink, resource_id: str | None, user_id: int) -> CopySource | None:
    """The assignment another course's link was copied from, or None: of the original and its
    earlier copies, the newest this teacher grades (last term's essays and settings, not the
    first term's), else the newest."""
    if not resource_id:
        return None
    course = db.session.get(Course, link.course_id)
    lineage = _lineage(str(resource_id)[:100], course.platform_id, link.course_id)
    if not lineage:
        return None
    from worker.ml.training_set import load_examples   # no torch: plain rows of the database

    graded_by_them = [a_id for a_id, c_id in lineage if is_grader(c_id, user_id)]
    source = db.session.get(Assignment, (graded_by_them or [a_id for a_id, _ in lineage])[-1])
    may_copy = bool(graded_by_them)   # another course's essays are counted only for its teachers
    return CopySource(assignment=source, course_title=db.session.get(Course, source.course_id).title or "",
                      graded=len(load_examples(source.id).texts) if may_copy else 0, may_copy_essays=may_copy)


# Carried over to the copy: a teacher who graded anonymously, or chose review over auto-release,
# last term expects the same this term rather than the defaults.
SETTINGS = ("feedback_mode", "min_graded", "retrain_every", "confidence_threshold", "show_ai_label",
            "allow_resubmit", "anonymous_grading", "blind_check")


def copy_settings(source: Assignment, target: Assignment) -> None:
    for name in SETTINGS:
        setattr(target, name, getattr(source, name))


def form_from(source: Assignment, link_title: str | None) -> dict:
    """The set-up form, filled in with the original's settings."""
    return {"title": link_title or source.title, "prompt": source.prompt, "score_min": str(source.score_min),
            "score_max": str(source.score_max), "traits": traits_text(source.traits)}


def copy_graded_essays(source: Assignment, target: Assignment, grader_id: int) -> int:
    """Copy the original's training essays into `target` as imported grades, mapped onto the
    target's scale (the caller commits; one `training.due` event for the batch)."""
    from lti_app.coursework.imports import import_rows
    from worker.ml.training_set import load_examples

    examples = load_examples(source.id)
    lo, hi = target.score_min, target.score_max
    rows = [{"text": text, "score": _rescaled(score, source.score_min, source.score_max, lo, hi),
             "trait_scores": copied_trait_scores(traits, source.traits, target.traits), "comment": "",
             "group": group}
            for text, score, traits, group in zip(examples.texts, examples.scores, examples.trait_scores,
                                                  examples.groups)]
    if not rows:
        return 0
    added = import_rows(target, rows, grader_id, reason="course_copy").added
    _record_authors(source.id, target.id, examples)
    return added


def _record_authors(source_id: int, target_id: int, examples) -> None:
    """Note on each copy who wrote the essay it came from (`Submission.source_user_id`): erasing
    that person must find the copy after the original course's data is deleted, when no text is
    left to match it by. A copy of a copy names the first writer. An essay already held without
    a student (an earlier import of the same text) takes the name too: it is the same essay."""
    from lti_app.coursework.essay_text import normalise

    writers = dict(db.session.execute(
        db.select(Submission.id, db.func.coalesce(Submission.user_id, Submission.source_user_id))
        .where(Submission.assignment_id == source_id, Submission.id.in_(examples.submission_ids))).all())
    by_text: dict[str, int] = {}
    for text, essay_id in zip(examples.texts, examples.submission_ids):
        if writers.get(essay_id) is not None:
            by_text.setdefault(normalise(text), writers[essay_id])
    for text, writer in by_text.items():
        db.session.execute(db.update(Submission).where(
            Submission.assignment_id == target_id, Submission.user_id.is_(None), Submission.source_user_id.is_(None),
            Submission.text == text).values(source_user_id=writer))


def copied_trait_scores(scores: dict, source_traits: list[dict], target_traits: list[dict]) -> dict:
    """Trait scores of the original mapped onto the copy's traits of the same name, as the holistic
    score is. The copy form lets the teacher change a trait's range (1-6 to 1-4, or 0-100): a 6 of
    1-6 left as it was would read as "6 of 4" in training and feedback. A trait the copy no longer
    has is dropped, as a CSV column for it would be. The original's ranges are its current ones
    (a grade does not store the trait scales it was given on; `load_examples` clipped into them)."""
    old = {t["name"].lower(): (t["min"], t["max"]) for t in source_traits or []}
    mapped = {}
    for trait in target_traits or []:
        # Names are matched ignoring case: the form refuses two traits that differ only in case,
        # and a teacher retyping "organization" as "Organization" means the same trait.
        name, lo, hi = trait["name"], trait["min"], trait["max"]
        value = next((v for k, v in (scores or {}).items() if k.lower() == name.lower()), None)
        if value is None or name.lower() not in old:
            continue
        old_lo, old_hi = old[name.lower()]
        if (old_lo, old_hi) == (lo, hi):
            mapped[name] = value   # same range: kept as graded (a trait score may be 3.5)
        else:
            mapped[name] = _rescaled(value, old_lo, old_hi, lo, hi)
    return mapped


def _rescaled(value: float, old_lo: float, old_hi: float, lo: int, hi: int) -> int:
    """`value` on the old scale as a whole score on the new one."""
    from worker.ml.training_set import rescale, whole_score   # no torch: plain arithmetic

    return whole_score(rescale(value, old_lo, old_hi, lo, hi), lo, hi)
