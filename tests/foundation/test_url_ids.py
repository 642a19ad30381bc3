"""Ids in URLs beyond what a primary key can hold are 404 on every `<int:...>` route, before the
database sees them (PostgreSQL refused them as out of range, SQLite overflowed: a 500)."""
import pytest
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from lti_app.models import Role
from lti_app.routing import MAX_ID
from tests.coursework.conftest import own_postgres  # noqa: F401  (fixture)
from tests.coursework.helpers import build_world, login

TOO_BIG = (MAX_ID + 1, 2**63, 10**20)


def _id_paths(app, value):
    """(path, method, endpoint) for each method of each rule with an `<int:...>` part, the ids
    set to `value` (other parts to "x")."""
    adapter = app.url_map.bind("localhost")
    found = []
    for rule in app.url_map.iter_rules():
        converters = rule._converters
        if not any(isinstance(c, IntegerConverter) for c in converters.values()):
            continue
        values = {name: value if isinstance(c, IntegerConverter) else "x" for name, c in converters.items()}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = adapter.build(rule.endpoint, values, method=method, append_unknown=False)
            found.append((path, method, rule.endpoint))
    assert len(found) > 10, "expected the coursework, review and dashboard id routes"
    return adapter, found


@pytest.mark.parametrize("value", TOO_BIG)
def test_every_id_route_refuses_ids_no_row_can_have(app, value):
    adapter, paths = _id_paths(app, value)
    for path, method, _endpoint in paths:
        with pytest.raises(NotFound):
            adapter.match(path, method)


def test_the_largest_id_still_routes(app):
    adapter, paths = _id_paths(app, MAX_ID)
    for path, method, endpoint in paths:
        assert adapter.match(path, method)[0] == endpoint


def _essay_page_with_a_huge_id(app):
    world = build_world(app)
    client = app.test_client()
    login(client, app, course_id=world.course_a, user_id=world.student1_a, role=Role.LEARNER,
          resource_link_id=world.link_a)
    return [client.get(f"/coursework/a/{value}/essay").status_code for value in (MAX_ID + 1, 10**20)]


def test_a_huge_id_is_404_on_sqlite(app):
    assert _essay_page_with_a_huge_id(app) == [404, 404]


@pytest.mark.postgres
def test_a_huge_id_is_404_on_postgres(make_app, own_postgres):  # noqa: F811
    assert _essay_page_with_a_huge_id(make_app(database_url=own_postgres)) == [404, 404]


def _form_ids_beyond_the_column(app):
    """A version or proposal number in a form, beyond what the column holds: the teacher's
    rollback and the review queue's approve answer in words."""
    world = build_world(app)
    client = app.test_client()
    token = login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    rollback = client.post(f"/dashboard/a/{world.assignment_a}/rollback",
                           data={"csrf_token": token, "version": str(MAX_ID + 1)}, follow_redirects=True)
    approve = client.post(f"/review/a/{world.assignment_a}/approve",
                          data={"csrf_token": token, "proposal": [str(MAX_ID + 1)]})
    return rollback.status_code, "Choose a version" in rollback.get_data(as_text=True), approve.status_code


def test_form_ids_beyond_the_column_are_refused_on_sqlite(app):
    assert _form_ids_beyond_the_column(app) == (200, True, 400)


@pytest.mark.postgres
def test_form_ids_beyond_the_column_are_refused_on_postgres(make_app, own_postgres):  # noqa: F811
    assert _form_ids_beyond_the_column(make_app(database_url=own_postgres)) == (200, True, 400)
