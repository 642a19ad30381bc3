"""The teacher's list of a course's assignments counts what students handed in apart from the
essays imported as training data (a reviewer read "Essays 100" beside "0 graded · 100 imported")."""
from __future__ import annotations

import re

from lti_app.extensions import db
from lti_app.models import Role, Submission
from tests.coursework.helpers import login


def test_the_course_list_counts_hand_ins_apart_from_imported_essays(client, app, world):
    with app.app_context():
        for i in range(3):
            db.session.add(Submission(assignment_id=world.assignment_a, text=f"Imported essay {i}.", word_count=3))
        db.session.commit()
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    page = client.get("/coursework/course").get_data(as_text=True)
    row = re.search(r"<tr><td><a [^>]*>Essay a</a></td>(.*?)</tr>", page, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
    assert cells[1:] == ["1 (+ 3 imported)", "linked at its first launch"], cells
    assert '<th scope="col">Handed in</th>' in page
