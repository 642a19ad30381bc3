"""The blind check of the model in service (`lti_app/review/blind.py`): about 1 essay in 5 that a
course model proposes a grade for is graded by the teacher before the proposal is shown. The
queue lists it without the proposal and links to the grading page, never approves it in bulk, its
review page sends the teacher to grade it, auto-release treats it as any other; the grading page hides
the proposal until a grade is saved, and that grade trains as one given without a proposal in
view (`Examples.had_proposal` false, no `proposed_by`), so training tests models on it first.
Turning the setting off shows every proposal again. Only what the teacher has not seen is hidden: not a
proposal made before the check was turned on, nor one of an essay with an AI grade; a graded essay's
review link shows its proposal; only the course's instructors switch the check (Flask test client, on
SQLite and PostgreSQL)."""
from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest

from lti_app.extensions import db
from lti_app.models import (AiProposal, Assignment, FeedbackMode, Grade, GradeSource, ModelVersion, Role,
                            Submission, SubmissionStatus, User)
from lti_app.models.base import utcnow
from lti_app.review import blind
from lti_app.timestamps import as_utc
from tests.coursework.conftest import own_postgres  # noqa: F401  (a fixture: a database of the test's own)
from tests.coursework.helpers import build_world, login

FEEDBACK = "A clear claim, but the middle paragraph needs a second source."
_students = itertools.count(1)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app(request, make_app):
    if request.param == "postgres":
        return make_app(database_url=request.getfixturevalue("own_postgres"))
    return make_app()


def _version(app, world) -> int:
    with app.app_context():
        version = ModelVersion(assignment_id=world.assignment_a, version=1, status="promoted", approach="frozen-ridge",
                               path="models/1")
        db.session.add(version)
        db.session.flush()
        db.session.get(Assignment, world.assignment_a).current_model_id = version.id
        db.session.commit()
        return version.id


def _essay(app, world, *, blind_one: bool) -> int:
    """A new student's essay in assignment A that is (or is not) one of the blind check."""
    with app.app_context():
        while True:
            user = User(platform_id=world.platform, sub=f"blind-student-{next(_students)}", name="Sam")
            db.session.add(user)
            db.session.flush()
            essay = Submission(assignment_id=world.assignment_a, user_id=user.id, text="Phones help at school.",
                               word_count=4, status=SubmissionStatus.SUBMITTED)
            db.session.add(essay)
            db.session.flush()
            if blind.chosen(world.assignment_a, essay.id) == blind_one:
                db.session.commit()
                return essay.id


def _propose(app, sub_id: int, version_id: int | None, *, score=5, confidence=0.95) -> int:
    with app.app_context():
        submission = db.session.get(Submission, sub_id)
        proposal = AiProposal(submission_id=sub_id, model_version_id=version_id, score=score,
                              trait_scores={"cohesion": 4}, confidence=confidence, feedback=FEEDBACK, unusual=[],
                              status="pending", essay_submitted_at=submission.submitted_at)
        db.session.add(proposal)
        db.session.commit()
        return proposal.id


def _setup(app):
    world = build_world(app)
    version = _version(app, world)
    shown, hidden = _essay(app, world, blind_one=False), _essay(app, world, blind_one=True)
    return world, version, shown, hidden, _propose(app, shown, version), _propose(app, hidden, version)


def _teacher(app, world):
    client = app.test_client()
    return client, login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
                         platform_id=world.platform)


def _row(page: str, proposal_id: int) -> str:
    found = re.search(rf'<tr data-proposal="{proposal_id}".*?</tr>', page, re.S)
    assert found, page
    return " ".join(found.group(0).split())


def _grade_url(world, sub_id: int) -> str:
    return f"/coursework/a/{world.assignment_a}/essays/{sub_id}"


def _save_grade(client, csrf, world, sub_id: int, score: str) -> str:
    """Open the grading page and save `score` with what the form carries; returns the page opened."""
    page = client.get(_grade_url(world, sub_id)).get_data(as_text=True)
    fields = dict(re.findall(r'<input type="hidden" name="(seen|hidden_proposal)" value="([^"]*)"', page))
    response = client.post(_grade_url(world, sub_id), data={"csrf_token": csrf, "score": score,
                                                            "comment": "My own words.", **fields})
    assert response.status_code == 303, response.get_data(as_text=True)
    return page


def test_the_choice_is_stable_and_about_one_in_five():
    picked = [blind.chosen(7, sub_id) for sub_id in range(1, 1001)]
    assert 160 <= sum(picked) <= 240, sum(picked)
    assert picked == [blind.chosen(7, sub_id) for sub_id in range(1, 1001)]
    assert [blind.chosen(8, s) for s in range(1, 101)] != picked[:100], "another assignment, another sample"


def test_the_queue_hides_a_blind_essays_proposal_and_sends_the_teacher_to_grade_it(app):
    world, _, shown, hidden, shown_p, hidden_p = _setup(app)
    client, _ = _teacher(app, world)
    page = client.get(f"/review/a/{world.assignment_a}").get_data(as_text=True)
    row = _row(page, hidden_p)
    assert "Grade this one yourself first (a blind check of the model)" in row
    assert FEEDBACK[:20] not in row and "95%" not in row and "5 of 6" not in row
    assert f'href="{_grade_url(world, hidden)}' in row and 'name="proposal"' not in row
    other = _row(page, shown_p)
    assert 'name="proposal"' in other and FEEDBACK[:20] in other


def test_blind_essays_come_last_so_the_order_tells_nothing_of_the_models_confidence(app):
    """The queue lists the least confident first: a blind essay there would say how unsure the model is."""
    world = build_world(app)
    version = _version(app, world)
    sure, unsure = _essay(app, world, blind_one=False), _essay(app, world, blind_one=True)
    sure_p, unsure_p = _propose(app, sure, version, confidence=0.95), _propose(app, unsure, version, confidence=0.2)
    client, _ = _teacher(app, world)
    page = client.get(f"/review/a/{world.assignment_a}").get_data(as_text=True)
    assert page.index(f'data-proposal="{sure_p}"') < page.index(f'data-proposal="{unsure_p}"')
    assert "the essays you grade blind (without seeing the proposal) come last" in page


def test_bulk_approval_never_approves_a_blind_essay(app):
    world, _, shown, hidden, shown_p, hidden_p = _setup(app)
    client, csrf = _teacher(app, world)
    response = client.post(f"/review/a/{world.assignment_a}/approve",
                           data={"csrf_token": csrf, "proposal": [str(shown_p), str(hidden_p)]})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 essay of the blind check was not approved: grade it yourself first." in " ".join(page.split())
    with app.app_context():
        assert db.session.get(AiProposal, hidden_p).status == "pending"
        assert db.session.scalar(db.select(Grade.id).filter_by(submission_id=hidden)) is None
        assert db.session.get(AiProposal, shown_p).status == "approved"


def test_a_blind_essays_review_page_sends_the_teacher_to_grade_it_first(app):
    world, _, _, hidden, _, hidden_p = _setup(app)
    client, csrf = _teacher(app, world)
    url = f"/review/a/{world.assignment_a}/p/{hidden_p}"
    assert client.get(url).headers["Location"].split("?")[0].endswith(_grade_url(world, hidden))
    approve = client.post(url, data={"csrf_token": csrf, "action": "approve"})
    assert approve.status_code == 303
    with app.app_context():
        assert db.session.get(AiProposal, hidden_p).status == "pending"
        assert db.session.scalar(db.select(Grade.id).filter_by(submission_id=hidden)) is None


def test_the_grading_page_shows_the_proposal_only_after_the_grade_which_trains_as_given_blind(app):
    from worker.ml.training_set import load_examples

    world, version, shown, hidden, _, _ = _setup(app)
    client, csrf = _teacher(app, world)
    before = _save_grade(client, csrf, world, hidden, "3")
    assert 'id="blind"' in before and 'id="proposal"' not in before and FEEDBACK not in before
    after = client.get(_grade_url(world, hidden)).get_data(as_text=True)
    revealed = re.search(r'<section[^>]*id="revealed".*?</section>', after, re.S)
    assert revealed and 'id="revealed-score">5<' in revealed.group(0) and FEEDBACK in revealed.group(0)
    seen = _save_grade(client, csrf, world, shown, "3")
    assert 'id="proposal"' in seen and FEEDBACK in seen and 'id="blind"' not in seen
    with app.app_context():
        assert db.session.scalars(db.select(Grade.blind).filter_by(submission_id=hidden)).all() == [True]
        assert db.session.scalars(db.select(Grade.blind).filter_by(submission_id=shown)).all() == [False]
        ex = load_examples(world.assignment_a)
        by_id = dict(zip(ex.submission_ids, zip(ex.had_proposal, ex.proposed_by)))
        assert by_id[hidden] == (False, {})
        assert by_id[shown] == (True, {version: 5.0})


def test_a_grade_changed_after_the_proposal_was_shown_is_not_blind(app):
    world, _, _, hidden, _, _ = _setup(app)
    client, csrf = _teacher(app, world)
    _save_grade(client, csrf, world, hidden, "3")
    page = _save_grade(client, csrf, world, hidden, "4")   # opened with the proposal shown
    assert 'name="hidden_proposal"' not in page
    with app.app_context():
        assert db.session.scalars(db.select(Grade.blind).filter_by(submission_id=hidden)
                                  .order_by(Grade.id)).all() == [True, False]


def test_turning_the_setting_off_shows_every_proposal(app):
    world, _, _, hidden, _, hidden_p = _setup(app)
    client, csrf = _teacher(app, world)
    settings = client.get(f"/coursework/a/{world.assignment_a}/settings").get_data(as_text=True)
    assert re.search(r'<input type="checkbox" name="blind_check"[^>]*checked', settings), "on by default"
    response = client.post(f"/coursework/a/{world.assignment_a}/settings",
                           data={"csrf_token": csrf, "feedback_mode": "review", "min_graded": "30",
                                 "retrain_every": "20", "confidence_threshold": "60%", "show_ai_label": "on",
                                 "allow_resubmit": "on"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Assignment, world.assignment_a).blind_check is False
    queue = client.get(f"/review/a/{world.assignment_a}").get_data(as_text=True)
    assert 'name="proposal"' in _row(queue, hidden_p) and "blind check" not in _row(queue, hidden_p)
    grading = client.get(_grade_url(world, hidden)).get_data(as_text=True)
    assert 'id="proposal"' in grading and 'id="blind"' not in grading
    assert client.get(f"/review/a/{world.assignment_a}/p/{hidden_p}").status_code == 200


def test_a_proposal_made_without_a_model_version_is_not_hidden(app):
    world = build_world(app)
    hidden = _essay(app, world, blind_one=True)
    proposal = _propose(app, hidden, None)
    client, _ = _teacher(app, world)
    assert 'name="proposal"' in _row(client.get(f"/review/a/{world.assignment_a}").get_data(as_text=True), proposal)


def test_auto_release_sends_a_confident_blind_essay_and_hides_a_doubtful_one(app):
    """The check never adds essays for the teacher to grade: a confident blind essay is released as
    any other; one below the threshold waits in the queue with its proposal hidden."""
    from worker.handlers import scoring

    world, version, shown, hidden, shown_p, hidden_p = _setup(app)
    with app.app_context():
        assignment = db.session.get(Assignment, world.assignment_a)
        assignment.feedback_mode, assignment.confidence_threshold = FeedbackMode.AUTO_RELEASE, 2.0
        db.session.flush()
        assert scoring._auto_release(None, assignment, db.session.get(AiProposal, hidden_p)) is None
        assert blind.hides(assignment, db.session.get(AiProposal, hidden_p))
        assignment.confidence_threshold = 0.0
        db.session.flush()
        assert scoring._auto_release(None, assignment, db.session.get(AiProposal, hidden_p)) is not None
        assert scoring._auto_release(None, assignment, db.session.get(AiProposal, shown_p)) is not None
        db.session.commit()
        assert db.session.scalar(db.select(Grade.source).filter_by(submission_id=hidden)) == GradeSource.AI_AUTO
        assert db.session.scalar(db.select(Grade.source).filter_by(submission_id=shown)) == GradeSource.AI_AUTO


def test_the_dashboard_counts_blind_grades_and_says_how_the_model_agreed_from_ten(app):
    world = build_world(app)
    version = _version(app, world)
    with app.app_context():
        then = utcnow() - timedelta(hours=1)
        for n in range(10):
            sub_id = _essay(app, world, blind_one=True)
            db.session.add(AiProposal(submission_id=sub_id, model_version_id=version, score=4, trait_scores={},
                                      confidence=0.9, feedback="Good.", unusual=[], status="pending", created_at=then))
            db.session.add(Grade(submission_id=sub_id, score=4 if n < 6 else 5 if n < 9 else 1, blind=True,
                                 source=GradeSource.TEACHER, score_min=1, score_max=6))
            db.session.commit()
            words = blind.dashboard_words(db.session.get(Assignment, world.assignment_a))
            if n == 8:
                assert words.startswith("9 essays graded blind") and "how well it agrees" in words
    assert words == ("10 essays graded blind (before seeing the proposal). On the 10 the model in service proposed a "
                     "score for, it gave your score on 60% and was within one point on 90%.")
    client, _ = _teacher(app, world)
    page = client.get(f"/dashboard/a/{world.assignment_a}").get_data(as_text=True)
    assert words in " ".join(page.split())


def test_the_essay_list_shows_no_proposed_score_for_a_blind_essay(app):
    """The essay list is the usual way to open an essay: a score there would anchor the blind grade."""
    world, _, shown, hidden, shown_p, hidden_p = _setup(app)
    client, _ = _teacher(app, world)
    page = client.get(f"/coursework/a/{world.assignment_a}").get_data(as_text=True)
    links = dict((href.split("?")[0], words) for href, words in
                 re.findall(r'<a class="muted proposal-link" href="([^"]*)">([^<]*)</a>', page))
    assert links[f"/review/a/{world.assignment_a}/p/{shown_p}"] == "Proposed 5/6, to review"
    assert links[_grade_url(world, hidden)] == "Proposal hidden: grade it first (blind check)"
    assert not any(f"/p/{hidden_p}" in href for href in links)


def _settings_form(csrf, **extra) -> dict:
    return {"csrf_token": csrf, "feedback_mode": "review", "min_graded": "30", "retrain_every": "20",
            "confidence_threshold": "60%", "show_ai_label": "on", "allow_resubmit": "on", **extra}


def test_a_proposal_made_before_the_check_was_turned_on_stays_in_view(app):
    """Its score was in the queue already: a grade given on it is no blind one. A proposal made
    after the teacher turned the check on is hidden."""
    world, version, shown, hidden, shown_p, hidden_p = _setup(app)
    client, csrf = _teacher(app, world)
    assert client.post(f"/coursework/a/{world.assignment_a}/settings", data=_settings_form(csrf)).status_code == 303
    assert 'name="proposal"' in _row(client.get(f"/review/a/{world.assignment_a}").get_data(as_text=True), hidden_p)
    before = utcnow()
    response = client.post(f"/coursework/a/{world.assignment_a}/settings",
                           data=_settings_form(csrf, blind_check="on"))
    assert response.status_code == 303
    with app.app_context():
        since = db.session.get(Assignment, world.assignment_a).blind_check_since
        assert as_utc(since) >= before
    queue = client.get(f"/review/a/{world.assignment_a}").get_data(as_text=True)
    assert 'name="proposal"' in _row(queue, hidden_p) and "blind check" not in _row(queue, hidden_p)
    page = _save_grade(client, csrf, world, hidden, "5")
    assert 'id="proposal"' in page and 'name="hidden_proposal"' not in page
    later = _essay(app, world, blind_one=True)
    later_p = _propose(app, later, version)
    assert "Grade this one yourself first" in _row(client.get(f"/review/a/{world.assignment_a}").get_data(as_text=True),
                                                   later_p)
    # saving the settings again with the box still ticked keeps the time it was turned on
    assert client.post(f"/coursework/a/{world.assignment_a}/settings",
                       data=_settings_form(csrf, blind_check="on")).status_code == 303
    with app.app_context():
        assert db.session.get(Assignment, world.assignment_a).blind_check_since == since
        assert db.session.scalars(db.select(Grade.blind).filter_by(submission_id=hidden)).all() == [False]


def test_a_check_turned_on_since_always_hides_every_proposal(app):
    """No time stored (a row written without the column): the check counts as on since always."""
    world, _, _, hidden, _, hidden_p = _setup(app)
    with app.app_context():
        db.session.get(Assignment, world.assignment_a).blind_check_since = None
        db.session.commit()
    client, _ = _teacher(app, world)
    assert "Grade this one yourself first" in _row(client.get(f"/review/a/{world.assignment_a}").get_data(as_text=True),
                                                   hidden_p)


def test_the_review_link_of_an_essay_already_graded_blind_shows_the_proposal(app):
    """Browser history or a bookmark: once the teacher's grade is saved, the proposal is no secret."""
    world, _, _, hidden, _, hidden_p = _setup(app)
    client, csrf = _teacher(app, world)
    _save_grade(client, csrf, world, hidden, "3")
    response = client.get(f"/review/a/{world.assignment_a}/p/{hidden_p}")
    assert response.status_code == 200
    assert "Grade this essay yourself first" not in response.get_data(as_text=True)
    assert FEEDBACK in response.get_data(as_text=True)


def test_a_revision_of_an_essay_the_model_graded_is_not_hidden(app):
    """The earlier version's AI grade (auto-released, or approved while the check was off) is on the
    grading page: the model's view of the essay is in front of the teacher, so nothing is blind."""
    world, version, _, hidden, _, hidden_p = _setup(app)
    with app.app_context():
        db.session.get(AiProposal, hidden_p).status = "released"
        db.session.add(Grade(submission_id=hidden, score=5, comment=FEEDBACK, source=GradeSource.AI_AUTO,
                             score_min=1, score_max=6, essay_text="The first version.",
                             created_at=utcnow() - timedelta(minutes=1)))
        submission = db.session.get(Submission, hidden)
        submission.status, submission.submitted_at = SubmissionStatus.SUBMITTED, utcnow()
        db.session.commit()
    revision_p = _propose(app, hidden, version, score=4)
    client, csrf = _teacher(app, world)
    queue = client.get(f"/review/a/{world.assignment_a}").get_data(as_text=True)
    assert 'name="proposal"' in _row(queue, revision_p)
    page = _save_grade(client, csrf, world, hidden, "3")
    assert 'id="proposal"' in page and 'id="blind"' not in page
    with app.app_context():
        assert db.session.scalars(db.select(Grade.blind).filter_by(submission_id=hidden)
                                  .order_by(Grade.id)).all() == [False, False]


def test_a_revision_of_an_essay_graded_blind_is_not_hidden_again(app):
    """Once the blind grade was saved, its page showed what the model proposed; the revision is
    nearly the same text, so its grade would not be the teacher's unprompted judgement."""
    world, version, _, hidden, _, hidden_p = _setup(app)
    client, csrf = _teacher(app, world)
    _save_grade(client, csrf, world, hidden, "3")
    with app.app_context():
        submission = db.session.get(Submission, hidden)
        submission.status, submission.submitted_at = SubmissionStatus.SUBMITTED, utcnow()
        db.session.commit()
    revision_p = _propose(app, hidden, version, score=4)
    queue = client.get(f"/review/a/{world.assignment_a}").get_data(as_text=True)
    assert 'name="proposal"' in _row(queue, revision_p)
    page = _save_grade(client, csrf, world, hidden, "4")
    assert 'id="blind"' not in page
    with app.app_context():
        assert db.session.scalars(db.select(Grade.blind).filter_by(submission_id=hidden)
                                  .order_by(Grade.id)).all() == [True, False]


def test_the_dashboard_says_with_auto_release_the_blind_essays_are_the_doubtful_ones(app):
    """A confident blind essay is released, so only those below the threshold are graded blind."""
    world = build_world(app)
    version = _version(app, world)
    with app.app_context():
        assignment = db.session.get(Assignment, world.assignment_a)
        assignment.feedback_mode = FeedbackMode.AUTO_RELEASE
        then = utcnow() - timedelta(hours=1)
        for _ in range(10):
            sub_id = _essay(app, world, blind_one=True)
            db.session.add(AiProposal(submission_id=sub_id, model_version_id=version, score=4, trait_scores={},
                                      confidence=0.3, feedback="Good.", unusual=[], status="pending", created_at=then))
            db.session.add(Grade(submission_id=sub_id, score=4, blind=True, source=GradeSource.TEACHER,
                                 score_min=1, score_max=6))
        db.session.commit()
        words = blind.dashboard_words(db.session.get(Assignment, world.assignment_a))
    assert "gave your score on 100%" in words
    assert "less sure of, those below your release threshold" in words


def test_a_teaching_assistant_cannot_switch_the_check_off(app):
    """As anonymous grading: the check guards the course model against approvals, the course's
    instructors decide it."""
    world = build_world(app)
    ta = app.test_client()
    csrf = login(ta, app, course_id=world.course_a, user_id=world.ta_a, role=Role.TA, platform_id=world.platform)
    page = ta.get(f"/coursework/a/{world.assignment_a}/settings").get_data(as_text=True)
    box = re.search(r'<input type="checkbox" name="blind_check"[^>]*>.*?</label>', page, re.S).group(0)
    assert "disabled" in box and "the course’s instructors set this" in box
    assert ta.post(f"/coursework/a/{world.assignment_a}/settings", data=_settings_form(csrf)).status_code == 303
    refused = ta.post(f"/coursework/a/{world.assignment_a}/settings", data=_settings_form(csrf, min_graded=""))
    assert refused.status_code == 400
    assert re.search(r'<input type="checkbox" name="blind_check"[^>]*checked', refused.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(Assignment, world.assignment_a).blind_check is True


def _statements(app, client, url: str) -> int:
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    client.get(url)   # fills the caches of the first request
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_the_queue_and_the_essay_list_ask_once_which_essays_the_model_graded(app):
    """Whether an essay shows an AI grade is one query for the page, however many blind essays wait."""
    world = build_world(app)
    version = _version(app, world)
    client, _ = _teacher(app, world)
    urls = (f"/review/a/{world.assignment_a}", f"/coursework/a/{world.assignment_a}")
    for _ in range(3):
        _propose(app, _essay(app, world, blind_one=True), version)
    few = [_statements(app, client, url) for url in urls]
    for _ in range(12):
        _propose(app, _essay(app, world, blind_one=True), version)
    assert [_statements(app, client, url) for url in urls] == few
