"""The import page tells the teacher what a `group` label is for and that it can be sensitive
personal data (reviewer "fair", F5): neutral codes, the key kept outside Gradeloop."""
from __future__ import annotations

import re
from html import unescape

from lti_app.models import Role
from tests.coursework.helpers import login


def test_the_import_page_says_group_labels_can_be_sensitive(client, app, world):
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    page = client.get(f"/coursework/a/{world.assignment_a}/import").get_data(as_text=True)
    said = " ".join(unescape(re.sub(r"<[^>]+>", " ", re.search(r'id="group-help">(.*?)</p>', page, re.S)
                                    .group(1))).split())
    assert "sensitive personal data" in said and "English-learner status" in said
    assert "use neutral codes such as A and B , keep what they stand for outside Gradeloop" in said
    assert "students never see them" in said
