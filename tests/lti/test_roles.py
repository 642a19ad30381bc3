"""Role mapping with the roles claims Canvas and Moodle really send (and the short forms)."""
from __future__ import annotations

import pytest

from lti_app.lti.roles import parse_role, resolve_role
from lti_app.models import Role

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"

CASES = [
    # Canvas teacher: institution + context + system roles.
    ([LIS + "institution/person#Instructor", LIS + "membership#Instructor", LIS + "system/person#User"],
     Role.INSTRUCTOR),
    # Canvas student.
    ([LIS + "institution/person#Student", LIS + "membership#Learner", LIS + "system/person#User"], Role.LEARNER),
    # Canvas TA: the Instructor#TeachingAssistant sub-role (with or without the principal role).
    ([LIS + "institution/person#Student", LIS + "membership/Instructor#TeachingAssistant",
      LIS + "system/person#User"], Role.TA),
    ([LIS + "membership#Instructor", LIS + "membership/Instructor#TeachingAssistant"], Role.TA),
    # Canvas account admin who is not enrolled in the course.
    ([LIS + "institution/person#Administrator", LIS + "system/person#User"], Role.ADMINISTRATOR),
    # Canvas: a faculty member enrolled as a student is a learner in this course.
    ([LIS + "institution/person#Instructor", LIS + "membership#Learner"], Role.LEARNER),
    # Canvas designer: content developer only -> nothing Gradeloop supports.
    ([LIS + "membership#ContentDeveloper", LIS + "system/person#User"], None),
    # Canvas observer (Mentor).
    ([LIS + "membership#Mentor"], None),
    # Canvas adds institution roles to every launch: an observer who is a student elsewhere in
    # the school is no student of this course, a designer who administers the account no grader.
    ([LIS + "membership#Mentor", LIS + "institution/person#Student", LIS + "system/person#User"], None),
    ([LIS + "membership#ContentDeveloper", LIS + "institution/person#Administrator"], None),
    # Moodle teacher / student.
    ([LIS + "membership#Instructor"], Role.INSTRUCTOR),
    ([LIS + "membership#Learner"], Role.LEARNER),
    # Moodle site admin: context Instructor plus institution and system Administrator.
    ([LIS + "membership#Instructor", LIS + "institution/person#Administrator",
      LIS + "system/person#Administrator"], Role.INSTRUCTOR),
    ([LIS + "system/person#Administrator"], Role.ADMINISTRATOR),
    ([LIS + "membership#Administrator"], Role.ADMINISTRATOR),
    # Short (deprecated) forms and LTI 1.1 URNs.
    (["Instructor"], Role.INSTRUCTOR),
    (["Learner"], Role.LEARNER),
    (["TeachingAssistant"], Role.TA),
    (["Administrator"], Role.ADMINISTRATOR),
    (["urn:lti:role:ims/lis/Instructor"], Role.INSTRUCTOR),
    (["urn:lti:role:ims/lis/TeachingAssistant"], Role.TA),
    (["urn:lti:instrole:ims/lis/Administrator"], Role.ADMINISTRATOR),
    (["urn:lti:role:ims/lis/Learner/NonCreditLearner"], Role.LEARNER),
    ([], None),
    ([42, None, "https://example.com/custom#role"], None),
]


@pytest.mark.parametrize("roles, expected", CASES)
def test_roles_claim_maps_to_course_role(roles, expected):
    assert resolve_role(roles) is expected


def test_parse_role_forms():
    assert parse_role(LIS + "membership/Instructor#TeachingAssistant") == ("context", "Instructor", "TeachingAssistant")
    assert parse_role(LIS + "institution/person#Administrator") == ("institution", "Administrator", None)
    assert parse_role("Learner") == ("context", "Learner", None)
