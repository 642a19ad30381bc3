"""What a teacher's forms say when they refuse something, found in a walkthrough: the course-data
deletion page's error takes focus like other forms' errors; the assignment form reports every
field's error in one round and says which characters a trait name may use; the confidence
threshold is a percentage, as the hint and the dashboard speak of it; and a link whose assignment
data was deleted says so, to the teacher and to students."""
from __future__ import annotations

import html
import re

import pytest

from lti_app.coursework.schemas import AssignmentSchema, SettingsSchema
from lti_app.extensions import db
from lti_app.models import Assignment, ResourceLink, Role
from tests.coursework.helpers import login

SETTINGS = {"feedback_mode": "auto", "min_graded": "40", "retrain_every": "10"}


def _as(client, app, world, who: str, **launch) -> str:
    role = Role.INSTRUCTOR if who == "teacher" else Role.LEARNER
    return login(client, app, course_id=world.course_a, user_id=getattr(world, f"{who}_a"), role=role, **launch)


def _text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def _errors(schema, data: dict) -> dict:
    from marshmallow import ValidationError

    with pytest.raises(ValidationError) as caught:
        schema.load(data)
    return caught.value.messages


# 1. The deletion page's error takes focus ---------------------------------------------------------

def test_a_wrong_deletion_confirmation_takes_focus_and_describes_the_field(client, app, world):
    token = _as(client, app, world, "teacher")
    wrong = client.post("/coursework/course/delete", data={"csrf_token": token, "confirm": "delete"})
    page = wrong.get_data(as_text=True)
    assert wrong.status_code == 400
    [alert] = re.findall(r'<div [^>]*role="alert"[^>]*>', page)
    assert "data-focus-on-load" in alert and 'tabindex="-1"' in alert, "focus stayed on <body>"
    error_id = re.search(r'id="([^"]+)"', alert).group(1)
    [field] = re.findall(r'<input [^>]*id="confirm"[^>]*>', page)
    assert 'aria-invalid="true"' in field and f'aria-describedby="{error_id}"' in field
    assert "data-focus-on-load" not in client.get("/coursework/course/delete").get_data(as_text=True)


def test_settings_and_set_up_errors_take_focus_too(client, app, world):
    token = _as(client, app, world, "teacher")
    settings = client.post(f"/coursework/a/{world.assignment_a}/settings",
                           data={"csrf_token": token, **SETTINGS, "min_graded": "2", "confidence_threshold": "60"})
    assert settings.status_code == 400 and "data-focus-on-load" in settings.get_data(as_text=True)
    with app.app_context():
        link = ResourceLink(course_id=world.course_a, resource_link_id="rl-hand-added", title="Essay 2")
        db.session.add(link)
        db.session.commit()
        link_id = link.id
    token = _as(client, app, world, "teacher", resource_link_id=link_id)
    setup = client.post("/coursework/setup", data={"csrf_token": token, "title": "", "prompt": "Argue.",
                                                   "score_min": "1", "score_max": "6"})
    assert setup.status_code == 400 and "data-focus-on-load" in setup.get_data(as_text=True)


# 2. The assignment form: every error in one round; trait names -----------------------------------

def test_a_reversed_scale_and_bad_traits_are_both_reported_at_once():
    errors = _errors(AssignmentSchema(), {"title": "T", "score_min": "6", "score_max": "1",
                                          "traits": "cohesion 1-5\nvoice\nstyle 5-1"})
    assert errors["score_max"] == ["The highest score must be above the lowest."]
    assert errors["traits"] == [
        "Line 2: write each trait as 'name lowest-highest' with whole numbers from 0 to 1000, e.g. 'cohesion 1-5'.",
        "Line 3: the scale must go up, from 0 or more to at most 1000."]


def test_every_field_of_the_set_up_form_is_checked_in_one_round(client, app, world):
    token = _as(client, app, world, "teacher")
    edited = client.post(f"/coursework/a/{world.assignment_a}/edit",
                         data={"csrf_token": token, "title": "", "prompt": "Discuss.", "score_min": "6",
                               "score_max": "1", "traits": "voice"})
    text = _text(edited)
    assert edited.status_code == 400
    assert "Give the assignment a title" in text and "The highest score must be above the lowest." in text
    assert "Line 1: write each trait as" in text


def test_a_trait_name_may_hold_an_ampersand():
    data = AssignmentSchema().load({"title": "T", "score_min": "1", "score_max": "6",
                                    "traits": "cohesion 1-5\nOrganisation & structure 1-5"})
    assert data["traits"][1] == {"name": "Organisation & structure", "min": 1, "max": 5}


@pytest.mark.parametrize("line,named", [("Organisation + structure 1-5", "“+”"),
                                        ("Grammar/spelling 1-4", "“/”")])
def test_a_trait_name_with_other_characters_says_which_ones_it_may_use(line, named):
    [message] = _errors(AssignmentSchema(), {"title": "T", "score_min": "1", "score_max": "6",
                                             "traits": "cohesion 1-5\n\n" + line})["traits"]
    assert message.startswith("Line 3: ") and named in message
    assert "may use only letters, digits, spaces" in message and "“&”" in message
    assert "write each trait as" not in message, "the line's shape was right: its name was not"


def test_a_trait_with_an_ampersand_is_graded_and_linked_from_the_error_summary(client, app, world):
    with app.app_context():
        db.session.get(Assignment, world.assignment_a).traits = [{"name": "Organisation & structure", "min": 1,
                                                                  "max": 5}]
        db.session.commit()
    token = _as(client, app, world, "teacher")
    url = f"/coursework/a/{world.assignment_a}/essays/{world.essay_a}"
    refused = client.post(url, data={"csrf_token": token, "score": "4", "trait:Organisation & structure": "9"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    href = html.unescape(re.search(r'<a href="#(trait-[^"]+)">', page).group(1))
    assert f'id="{href}"' in html.unescape(page), "the summary's link reaches the trait's field"
    saved = client.post(url, data={"csrf_token": token, "score": "4", "trait:Organisation & structure": "3"})
    assert saved.status_code == 303
    with app.app_context():
        from lti_app.models import Grade

        assert db.session.scalar(db.select(Grade.trait_scores)) == {"Organisation & structure": 3.0}


# 3. Settings: the threshold is a percentage; whole-sentence errors --------------------------------

@pytest.mark.parametrize("typed,stored", [("60", 0.6), ("60%", 0.6), (" 60 % ", 0.6), ("0.6", 0.6),
                                          ("62.5", 0.625), ("100", 1.0), ("0", 0.0), ("5%", 0.05)])
def test_the_confidence_threshold_is_read_as_a_percentage_or_a_fraction(typed, stored):
    data = SettingsSchema().load({**SETTINGS, "confidence_threshold": typed})
    assert data["confidence_threshold"] == pytest.approx(stored)


@pytest.mark.parametrize("typed", ["150", "101%", "-5", "sixty", "", "nan"])
def test_a_confidence_threshold_outside_0_to_100_percent_is_refused_in_words(typed):
    errors = _errors(SettingsSchema(), {**SETTINGS, "confidence_threshold": typed})
    assert errors == {"confidence_threshold": ["Enter a percentage from 0 to 100, such as 60 for 60%."]}


def test_the_settings_page_shows_and_takes_the_threshold_as_a_percentage(client, app, world):
    token = _as(client, app, world, "teacher")
    url = f"/coursework/a/{world.assignment_a}/settings"
    saved = client.post(url, data={"csrf_token": token, **SETTINGS, "confidence_threshold": "75%"})
    assert saved.status_code == 303
    with app.app_context():
        assert db.session.get(Assignment, world.assignment_a).confidence_threshold == pytest.approx(0.75)
    page = client.get(url).get_data(as_text=True)
    [field] = re.findall(r'<input [^>]*id="confidence_threshold"[^>]*>', page)
    assert 'value="75%"' in field and 'type="number"' not in field, "a number input refuses “75%”"
    assert "0 to 1" not in _text(client.get(url))


@pytest.mark.parametrize("stored", [0.01, 0.005, 0.6])
def test_a_threshold_saved_unchanged_stays_what_it_was(client, app, world, stored):
    """The page showed 1% as "1", which a save read back as a fraction: 100%, auto-release off."""
    token = _as(client, app, world, "teacher")
    url = f"/coursework/a/{world.assignment_a}/settings"
    with app.app_context():
        db.session.get(Assignment, world.assignment_a).confidence_threshold = stored
        db.session.commit()
    [shown] = re.findall(r'<input [^>]*id="confidence_threshold"[^>]*value="([^"]*)"',
                         client.get(url).get_data(as_text=True))
    assert client.post(url, data={"csrf_token": token, **SETTINGS, "confidence_threshold": shown}).status_code == 303
    with app.app_context():
        assert db.session.get(Assignment, world.assignment_a).confidence_threshold == pytest.approx(stored)


def test_whole_number_errors_are_sentences_with_formatted_numbers():
    errors = _errors(SettingsSchema(), {**SETTINGS, "min_graded": "2", "retrain_every": "0",
                                        "confidence_threshold": "60"})
    assert errors == {
        "min_graded": ["Enter a whole number from 15 (the fewest a model can learn from) to 100,000."],
        "retrain_every": ["Enter a whole number from 1 to 100,000."]}


# 4. A link whose assignment data was deleted ------------------------------------------------------

@pytest.fixture
def deleted_link(client, app, world):
    """Course A's link was made by the assignment picker (it names the assignment), then the
    teacher deleted the course's data."""
    with app.app_context():
        link = db.session.get(ResourceLink, world.link_a)
        link.custom = {"gradeloop_assignment": "res-a"}
        db.session.commit()
    token = _as(client, app, world, "teacher")
    done = client.post("/coursework/course/delete", data={"csrf_token": token, "confirm": "DELETE"})
    assert done.status_code == 303
    return world.link_a


def test_the_teacher_relaunching_a_deleted_assignment_is_told_so_and_can_set_it_up(client, app, world,
                                                                                   deleted_link):
    _as(client, app, world, "teacher", resource_link_id=deleted_link)
    landing = client.get("/coursework/")
    assert landing.status_code in (302, 303) and "/coursework/setup" in landing.headers["Location"]
    page = client.get("/coursework/setup")
    text = _text(page)
    assert "This assignment's data was deleted from Gradeloop. Set it up again to use it." in text
    assert "without Gradeloop's assignment picker" not in text
    assert 'id="title"' in page.get_data(as_text=True), "with the set-up form"


def test_a_student_opening_a_deleted_assignment_is_told_it_needs_setting_up_again(client, app, world,
                                                                                 deleted_link):
    _as(client, app, world, "student1", resource_link_id=deleted_link)
    text = _text(client.get("/coursework/"))
    assert "This assignment is not ready in Gradeloop yet. Your teacher needs to set it up again." in text
    assert "has not set it up" not in text


def test_a_hand_added_link_keeps_its_own_words(client, app, world):
    with app.app_context():
        link = ResourceLink(course_id=world.course_a, resource_link_id="rl-hand-added", title="Essay 2")
        db.session.add(link)
        db.session.commit()
        link_id = link.id
    _as(client, app, world, "teacher", resource_link_id=link_id)
    assert "without Gradeloop's assignment picker" in _text(client.get("/coursework/setup"))
    _as(client, app, world, "student1", resource_link_id=link_id)
    text = _text(client.get("/coursework/"))
    assert "Your teacher has not set it up in Gradeloop." in text and "set it up again" not in text
