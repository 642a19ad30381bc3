"""Fixtures for coursework tests that run on the Flask test client (no LMS involved)."""
import pytest

from tests.coursework.helpers import build_world
from tests.scratch_postgres import drop_database


@pytest.fixture
def world(app):
    return build_world(app)


@pytest.fixture
def own_postgres(postgres_url):
    """A PostgreSQL database of this test's own (the session's scratch database is shared with the
    migration tests, which need it empty)."""
    import uuid

    import sqlalchemy as sa

    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    name = f"gl_coursework_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield postgres_url.rsplit("/", 1)[0] + "/" + name
    drop_database(admin, name)
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def locking_app(request, make_app):
    """An app on each database, for races that need a row lock (`lti_app.locking`)."""
    if request.param == "postgres":
        return make_app(database_url=request.getfixturevalue("own_postgres"))
    return make_app()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def tool(request, make_tool_server):
    """The tool served over HTTP on each database (SQLite, and a PostgreSQL of the test's own), for
    races with the LMS that must hold on both."""
    if request.param == "postgres":
        return make_tool_server(database_url=request.getfixturevalue("own_postgres"))
    return make_tool_server()
