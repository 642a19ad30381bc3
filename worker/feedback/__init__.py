"""Written feedback for an AI-scored essay, in the teacher's own voice plus measured points.

`compose.compose_feedback` is the entry point; `loading.load_graded_examples` reads the
course's graded essays from the database (app context). See docs/feedback.md.
"""
from worker.feedback.records import Feedback, GradedExample

__all__ = ["Feedback", "GradedExample", "compose_feedback", "load_graded_examples"]


def __getattr__(name):
    # Lazy: compose pulls in scikit-learn, loading pulls in the Flask models.
    if name == "compose_feedback":
        from worker.feedback.compose import compose_feedback
        return compose_feedback
    if name == "load_graded_examples":
        from worker.feedback.loading import load_graded_examples
        return load_graded_examples
    raise AttributeError(name)
