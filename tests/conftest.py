"""Fixtures shared by the whole suite: an app on a fresh database, and the real services.

PostgreSQL and RabbitMQ are used for real when `GRADELOOP_TEST_POSTGRES_URL` /
`GRADELOOP_TEST_RABBITMQ_URL` point at them (`.ci/run` starts both). Without them a test that
needs one is skipped locally, but FAILS under CI=true so CI can never silently skip them.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from tests.scratch_postgres import drop_database

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = (ROOT.parent / "shared" / "data").resolve()
IN_CI = os.environ.get("CI", "").lower() == "true"

pytest_plugins = ["tests.peer"]


def require_service(env_var: str, what: str) -> str:
    url = os.environ.get(env_var)
    if url:
        return url
    if IN_CI:
        pytest.fail(f"{what} is required in CI but {env_var} is not set")
    pytest.skip(f"{what} not available ({env_var} unset)")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_app(request, tmp_path):
    """An app on an empty database of its own, SQLite or a scratch PostgreSQL one (the session's is
    at head already): for a migration test that starts from an older revision. The test disposes
    of the engine when it is done with it."""
    from lti_app import create_app

    def app_on(url: str):
        return create_app(env="test", data_dir=str(tmp_path), secret_key="x", database_url=url)

    if request.param == "sqlite":
        yield app_on(f"sqlite:///{tmp_path / 'm.db'}")
        return
    from tests.e2e.conftest import scratch_postgres   # imported here: it pulls in the e2e fixtures' modules
    with scratch_postgres(request.getfixturevalue("postgres_url")) as url:
        yield app_on(url)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of an empty scratch PostgreSQL database (created per session, dropped after)."""
    base = require_service("GRADELOOP_TEST_POSTGRES_URL", "PostgreSQL")
    import sqlalchemy as sa

    name = f"gl_test_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + "/" + name
    yield url
    drop_database(admin, name)
    admin.dispose()


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    return require_service("GRADELOOP_TEST_RABBITMQ_URL", "RabbitMQ")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("GRADELOOP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        if IN_CI:
            pytest.fail("Debian chromium is required in CI (apt-get install chromium)")
        pytest.skip("chromium not installed")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.fail(f"real essays expected at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def make_app(tmp_path):
    """Factory for apps on a fresh SQLite file (tables via create_all) in a temp data dir."""
    from lti_app import create_app
    from lti_app.extensions import db

    created = []

    def _make(**overrides):
        data_dir = overrides.pop("data_dir", tmp_path / f"data{len(created)}")
        overrides.setdefault("database_url", f"sqlite:///{data_dir / 'test.db'}")
        overrides.setdefault("broker_url", "memory://")
        app = create_app(env=overrides.pop("env", "test"), data_dir=str(data_dir),
                         secret_key="test-secret", **overrides)
        with app.app_context():
            db.create_all()
        created.append(app)
        return app

    yield _make
    for app in created:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def worker_beating(tool_server):
    """A healthy worker's heartbeat for `tool_server` (no consumer): its pages say that Gradeloop
    keeps sending a grade the LMS did not take, rather than that no worker runs."""
    from tests.heartbeats import beating

    with beating(tool_server.app):
        yield
