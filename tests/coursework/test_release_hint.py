"""The line beside the auto-release threshold: how many recent proposals reached it. A teacher
who switched auto-release on at the default 60% saw nothing reach students (a young model was 41-55%
sure) and no reason why."""
from __future__ import annotations

import re

from lti_app.extensions import db
from lti_app.models import AiProposal, Assignment, FeedbackMode, Role
from tests.coursework.helpers import login


def _proposals(app, world, confidences, unusual=()):
    with app.app_context():
        for c in confidences:
            db.session.add(AiProposal(submission_id=world.essay_a, score=4, confidence=c, trait_scores={},
                                      feedback="", status="pending", unusual=list(unusual)))
        db.session.commit()


def _set(app, world, **fields):
    with app.app_context():
        a = db.session.get(Assignment, world.assignment_a)
        for k, v in fields.items():
            setattr(a, k, v)
        db.session.commit()


def test_the_threshold_says_how_many_recent_proposals_reach_it(app, client, world):
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
          platform_id=world.platform)
    settings, dashboard = f"/coursework/a/{world.assignment_a}/settings", f"/dashboard/a/{world.assignment_a}"
    assert 'id="release-hint"' not in client.get(settings).get_data(as_text=True), "no proposal yet: nothing to say"

    _proposals(app, world, [0.41, 0.48, 0.55])
    _proposals(app, world, [0.95], unusual=["much shorter than the essays the model learned from"])
    _set(app, world, feedback_mode=FeedbackMode.AUTO_RELEASE, confidence_threshold=0.6)
    page = client.get(settings).get_data(as_text=True)
    assert "Of the last 4 AI proposals,\n  none reached 60% confidence (the highest was 55%)" in page, "an unusual essay always waits"
    assert 'aria-describedby="release-hint"' in page
    assert "none reached 60% confidence" in client.get(dashboard).get_data(as_text=True)

    _set(app, world, confidence_threshold=0.45)
    page = client.get(settings).get_data(as_text=True)
    assert "2 reached 45% confidence and go to students at once" in page
    _set(app, world, feedback_mode=FeedbackMode.REVIEW)
    assert 'id="release-hint"' not in client.get(dashboard).get_data(as_text=True), "only beside auto-release there"
    assert 'id="release-hint"' in client.get(settings).get_data(as_text=True), "it helps decide to switch it on"


def _hint(client, url) -> str:
    """The line beside the threshold on the page at `url`, its whitespace made plain."""
    found = re.search(r'<p class="muted" id="release-hint">(.*?)</p>', client.get(url).get_data(as_text=True), re.S)
    assert found, "no release hint on " + url
    return " ".join(found.group(1).split())


def test_one_proposal_is_not_called_the_last_one(app, client, world):
    """"Of the last 1 AI proposal" (walk3 #7), then "Of the one AI proposal so far, ... the rest wait"
    and "every one waits" for a single proposal: with one proposal so far, the line speaks of it."""
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
          platform_id=world.platform)
    settings, dashboard = f"/coursework/a/{world.assignment_a}/settings", f"/dashboard/a/{world.assignment_a}"
    _proposals(app, world, [0.7])
    line = _hint(client, settings)
    assert line == "The one AI proposal so far reached 60% confidence: it goes to the student at once in auto-release."

    _set(app, world, confidence_threshold=0.8, feedback_mode=FeedbackMode.AUTO_RELEASE)
    expected = ("The one AI proposal so far did not reach 80% confidence (it had 70%): at this setting it waits for "
                "your review. A lower setting releases more, and more mistakes with them.")
    assert _hint(client, settings) == expected
    assert _hint(client, dashboard) == expected, "the dashboard shows the same line under auto-release"


def test_one_unusual_proposal_gives_no_confidence(app, client, world):
    """An unusual essay waits whatever its confidence (`release_hint`): the line says that rather than
    that it "did not reach" a setting it may well have reached."""
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
          platform_id=world.platform)
    _proposals(app, world, [0.95], unusual=["much shorter than the essays the model learned from"])
    assert _hint(client, f"/coursework/a/{world.assignment_a}/settings") == (
        "The one AI proposal so far is for an unusual essay, and those always wait for your review.")


def test_the_hint_says_which_trait_scores_auto_released_grades_leave_out(app, client, world):
    """A model in use whose trait scores did not pass their check, or were never measured (a version
    trained before trait checks, its parity stored per form as the export writes it): confident
    grades still go out, without those trait scores (`worker.ml.trait_checks.withheld`), and the
    line says so rather than promising them."""
    from lti_app.models import ModelVersion
    from tests.coursework.test_dashboard_traits import COHESION, HELD_OUT, PARITY

    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
          platform_id=world.platform)
    _proposals(app, world, [0.91, 0.95])
    with app.app_context():
        mv = ModelVersion(assignment_id=world.assignment_a, version=1, status="promoted", approach="frozen-ridge",
                          path="/nowhere", n_train=80, metrics={"held_out": HELD_OUT, "parity": PARITY},
                          gate={"promote": True, "reasons": [], "checks": {}})
        db.session.add(mv)
        db.session.flush()
        db.session.get(Assignment, world.assignment_a).current_model_id = version_id = mv.id
        db.session.commit()
    _set(app, world, feedback_mode=FeedbackMode.AUTO_RELEASE, confidence_threshold=0.6)

    def hint_of(page):
        return " ".join(re.search(r'<p class="muted" id="release-hint">(.*?)</p>', page, re.S).group(1).split())
    settings = client.get(f"/coursework/a/{world.assignment_a}/settings").get_data(as_text=True)
    assert hint_of(settings) == ("Of the last 2 AI proposals, 2 reached 60% confidence and go to students at once in "
                                 "auto-release; the rest wait for your review. Auto-released grades leave out the "
                                 "cohesion score for now: they have not yet been shown to agree with yours (the "
                                 "dashboard says why).")
    dashboard = client.get(f"/dashboard/a/{world.assignment_a}").get_data(as_text=True)
    assert "2 reached 60% confidence and go to students at once" in dashboard and 'id="trait-withheld"' in dashboard
    with app.app_context():   # measured, and failed: still left out
        mv = db.session.get(ModelVersion, version_id)
        mv.metrics = {"held_out": {**HELD_OUT, "traits": {"cohesion": {**COHESION, "qwk": 0.3}}}}
        mv.gate = {**mv.gate, "traits": {"cohesion": {"passed": False, "reasons": ["QWK 0.300 is below 0.70"]}}}
        db.session.commit()
    assert "leave out the cohesion score" in client.get(f"/coursework/a/{world.assignment_a}/settings").get_data(as_text=True)
    with app.app_context():   # every trait passed: nothing is left out
        mv = db.session.get(ModelVersion, version_id)
        mv.gate = {**mv.gate, "traits": {"cohesion": {"passed": True, "reasons": []}}}
        db.session.commit()
    settings = client.get(f"/coursework/a/{world.assignment_a}/settings").get_data(as_text=True)
    assert "2 reached 60% confidence and go to students at once" in settings and "leave out" not in settings


def test_before_any_proposal_the_settings_say_which_trait_scores_are_left_out(app, client, world):
    """A teacher switching auto-release on, before any essay was scored, read only "Settings saved."
    (the line needs proposals to count): what auto-released grades will leave out is said at once."""
    from lti_app.models import ModelVersion

    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
          platform_id=world.platform)
    with app.app_context():   # a version in use whose traits were never measured, no proposal yet
        mv = ModelVersion(assignment_id=world.assignment_a, version=1, status="promoted", approach="frozen-ridge",
                          path="/nowhere", n_train=80, metrics={}, gate={"promote": True, "reasons": []})
        db.session.add(mv)
        db.session.flush()
        db.session.get(Assignment, world.assignment_a).current_model_id = mv.id
        db.session.commit()
    _set(app, world, feedback_mode=FeedbackMode.AUTO_RELEASE, confidence_threshold=0.6)
    settings = client.get(f"/coursework/a/{world.assignment_a}/settings").get_data(as_text=True)
    hint = " ".join(re.search(r'<p class="muted" id="release-hint">(.*?)</p>', settings, re.S).group(1).split())
    assert hint == ("Auto-released grades leave out the cohesion score for now: they have not yet been shown to "
                    "agree with yours (the dashboard says why).")
