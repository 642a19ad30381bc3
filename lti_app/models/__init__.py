"""Database models, one module per area; importing this package registers every table."""
from lti_app.models.platform import DeepLinkingRequest, Deployment, LoginState, Platform, UsedNonce
from lti_app.models.course import Course, CourseRole, ResourceLink, Role, User
from lti_app.models.coursework import (
    MIN_TRAINING_ESSAYS, TRAINING_SOURCES, AiProposal, Assignment, FeedbackMode, Grade, GradeSource, Submission,
    SubmissionStatus,
)
from lti_app.models.outbox import OutboxEvent
from lti_app.models.jobs import (DeadLetter, JobLease, MessageDelivery, ProcessedMessage, TrainingRun,
                                 WorkerHeartbeat)
from lti_app.models.ml import ModelVersion

__all__ = [
    "Platform", "Deployment", "LoginState", "UsedNonce", "DeepLinkingRequest",
    "Course", "CourseRole", "ResourceLink", "Role", "User",
    "Assignment", "Submission", "SubmissionStatus", "Grade", "GradeSource", "AiProposal", "FeedbackMode",
    "MIN_TRAINING_ESSAYS",
    "TRAINING_SOURCES",
    "OutboxEvent",
    "JobLease", "DeadLetter", "MessageDelivery", "ProcessedMessage", "TrainingRun", "WorkerHeartbeat",
    "ModelVersion",
]
