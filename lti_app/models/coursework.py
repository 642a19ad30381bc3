"""Essay assignments, student submissions, teacher grades (training data) and AI proposals."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (JSON, Boolean, DateTime, Enum, Float, ForeignKey, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy import and_, false, or_, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_app.extensions import db
from lti_app.models.base import created_at_column, utcnow


class FeedbackMode(str, enum.Enum):
    OFF = "off"
    REVIEW = "review"          # AI proposes, the teacher approves/edits each
    AUTO_RELEASE = "auto"      # confident proposals are posted at once


class SubmissionStatus(str, enum.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    GRADED = "graded"          # a final grade exists (teacher, import or approved AI)
    # The teacher gave a graded essay back for revision: the student may hand in a new version
    # (whatever `allow_resubmit` says). The grade stays, with the text it was given on.
    RETURNED = "returned"


class GradeSource(str, enum.Enum):
    TEACHER = "teacher"
    IMPORT = "import"
    AI_APPROVED = "ai_approved"   # teacher approved the AI proposal unchanged
    AI_EDITED = "ai_edited"       # teacher changed it: counts as the teacher's grade
    AI_AUTO = "ai_auto"           # auto-released, never used as training data


# A teacher's judgement: what training, feedback examples and course copies learn from.
MIN_TRAINING_ESSAYS = 15
"""The fewest graded essays a course model trains on: 10 to fit after 5 held out for the gate's
check (`worker.ml.pipeline.MIN_GRADED`); the settings form refuses a lower `min_graded` and the
worker never starts a run below it (older rows with less count as this)."""
TRAINING_SOURCES = (GradeSource.TEACHER, GradeSource.IMPORT, GradeSource.AI_APPROVED, GradeSource.AI_EDITED)


class Assignment(db.Model):
    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    resource_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("resource_links.id", ondelete="SET NULL"), nullable=True, unique=True)
    title: Mapped[str] = mapped_column(String(500))
    prompt: Mapped[str] = mapped_column(Text, default="")
    score_min: Mapped[int] = mapped_column(Integer, default=1)
    score_max: Mapped[int] = mapped_column(Integer, default=6)
    # [{"name": "cohesion", "min": 1, "max": 5}, ...]
    traits: Mapped[list] = mapped_column(JSON, default=list)
    lineitem_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    resource_id: Mapped[str] = mapped_column(String(100), default="")  # our id, sent as lineItem resourceId
    # Auto-feedback settings (issue: auto-feedback end to end)
    feedback_mode: Mapped[FeedbackMode] = mapped_column(
        Enum(FeedbackMode, native_enum=False, length=20), default=FeedbackMode.REVIEW)
    min_graded: Mapped[int] = mapped_column(Integer, default=30)
    retrain_every: Mapped[int] = mapped_column(Integer, default=20)   # K new grades trigger retraining
    confidence_threshold: Mapped[float] = mapped_column(Float, default=0.6)
    show_ai_label: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_resubmit: Mapped[bool] = mapped_column(Boolean, default=True)
    # Graders see "Essay #12", not the student's name (lti_app/coursework/anonymity.py).
    anonymous_grading: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # About 1 essay in 5 with a proposal is graded before the proposal is shown (lti_app/review/blind.py).
    blind_check: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # When it was last turned on: a proposal made before was in view already, so it is not hidden.
    # None: on since always (a row written without it).
    blind_check_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=True)
    current_model_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", use_alter=True, ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = created_at_column()

    course = relationship("Course")


class Submission(db.Model):
    """One essay. Student submissions have a user; imported graded essays may not."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("assignment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    # Its own index: the unique one starts with the assignment, so a person's essays (erasure, the
    # cascade of a user's deletion) were a scan of all of them.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True,
                                                index=True)
    text: Mapped[str] = mapped_column(Text)
    filename: Mapped[str | None] = mapped_column(String(255), nullable=True)
    word_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[SubmissionStatus] = mapped_column(
        Enum(SubmissionStatus, native_enum=False, length=20), default=SubmissionStatus.SUBMITTED)
    group_label: Mapped[str | None] = mapped_column(String(100), nullable=True)  # fairness reports
    # The last revision note the LMS gradebook got, "<state>:<grade id>" (lms.revision_notice), and
    # the latest AGS timestamp Gradeloop sent for this essay (a note's, or a grade's sent again after
    # the LMS refused it as older, lms.gradebook): a later post must carry a newer one.
    lms_notice: Mapped[str | None] = mapped_column(String(60), nullable=True)
    lms_notice_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # `submitted_at` of the version whose hand-in the LMS was told about, and since when an
    # attempt is telling it (`lms.post_claims`; stale after `post_claims.stale_after()`).
    lms_submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    lms_submit_claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    submitted_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # On an essay without a student that a course copy brought (`course_copy.copy_graded_essays`):
    # who wrote the essay it was copied from. Erasing that person finds the copy by it after the
    # original is gone (a course's data deleted); nothing shows it. NULL on CSV imports. Their
    # user row stays when a course is deleted; `platform move-courses` carries this along when it
    # merges two rows of one person, and SET NULL keeps a deleted row's id (SQLite gives it to the
    # next new person) from naming anyone else.
    source_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                       nullable=True, index=True)

    assignment = relationship("Assignment")
    # Two foreign keys to users now: a join from submissions to users must name its column.
    user = relationship("User", foreign_keys=[user_id])


class Grade(db.Model):
    """A final grade on a submission; the latest one per submission is the current grade."""

    __tablename__ = "grades"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column(Float)
    trait_scores: Mapped[dict] = mapped_column(JSON, default=dict)
    comment: Mapped[str] = mapped_column(Text, default="")
    # Indexed for erasure and a user's deletion (SET NULL), which look up the grades a person gave.
    grader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True,
                                                  index=True)
    source: Mapped[GradeSource] = mapped_column(Enum(GradeSource, native_enum=False, length=20))
    score_min: Mapped[int] = mapped_column(Integer)   # scale at grading time
    score_max: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()
    # Gradebook sync state (AGS)
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    post_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Set while one attempt posts this grade (`gradebook.push_grade`), so the web request and the
    # worker never post it twice; a claim older than `gradebook.claim_stale_after()` is a crash's.
    post_claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The essay this grade was given on, copied here when a returned essay is replaced by the
    # student's revision (NULL: the submission's current text). Training pairs a grade with this.
    essay_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Given on the grading page while it hid the essay's proposal (lti_app/review/blind.py): the
    # teacher's own judgement of an essay the model scored, which training tests models on first.
    blind: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    submission = relationship("Submission")

    @property
    def on_earlier_version(self) -> bool:
        return self.essay_text is not None

    @property
    def graded_text(self) -> str:
        """The text this grade judged (training pairs them; `submission` is loaded on access)."""
        return self.submission.text if self.essay_text is None else self.essay_text

    @property
    def is_training_example(self) -> bool:
        return self.source in (GradeSource.TEACHER, GradeSource.IMPORT,
                               GradeSource.AI_APPROVED, GradeSource.AI_EDITED)


class AiProposal(db.Model):
    """The course model's score + feedback for a submission, awaiting or past teacher review."""

    __tablename__ = "ai_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    model_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL"), nullable=True)
    score: Mapped[float] = mapped_column(Float)
    trait_scores: Mapped[dict] = mapped_column(JSON, default=dict)
    confidence: Mapped[float] = mapped_column(Float)
    # Why the model never learned from an essay like this (worker.ml.envelope): such a proposal
    # always waits for the teacher, and the review page says why.
    unusual: Mapped[list] = mapped_column(JSON, default=list)
    feedback: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending/approved/edited/released
    created_at: Mapped[datetime] = created_at_column()
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The hand-in time of the essay version that was scored (`Submission.submitted_at` then). A
    # proposal belongs to the essay's current version only if it still matches: comparing
    # `created_at` with the hand-in time let a resubmission made while the old text was being
    # scored look "already scored". NULL on proposals older than this column (see `for_current_version`).
    essay_submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    @staticmethod
    def for_current_version():
        """SQL condition (with Submission joined): the proposal scored the essay's current version."""
        return or_(AiProposal.essay_submitted_at == Submission.submitted_at,
                   and_(AiProposal.essay_submitted_at.is_(None), AiProposal.created_at >= Submission.submitted_at))

    @staticmethod
    def for_older_version():
        """SQL condition (with Submission joined): the student handed in again after this proposal's
        version. Spelt out, not `~for_current_version()`: NOT of a NULL comparison is NULL, not true."""
        return or_(and_(AiProposal.essay_submitted_at.is_not(None),
                        AiProposal.essay_submitted_at != Submission.submitted_at),
                   and_(AiProposal.essay_submitted_at.is_(None), AiProposal.created_at < Submission.submitted_at))
