"""A data directory the app creates is private (0700) and so are the SQLite files it creates in it:
they hold essays, names and e-mail addresses. One the admin made is left with the admin's mode."""
from __future__ import annotations

import os
import stat

import pytest

from config.settings import load_config
from lti_app import create_app

OTHERS = stat.S_IRWXG | stat.S_IRWXO


@pytest.fixture
def usual_umask(monkeypatch):
    """The umask of a typical service (0022): what made the files 0644 in a 0755 folder."""
    for name in ("GRADELOOP_DATABASE_URL", "GRADELOOP_BROKER_URL", "GRADELOOP_SECRET_KEY", "GRADELOOP_ENV"):
        monkeypatch.delenv(name, raising=False)
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_fresh_data_dir_and_everything_the_app_creates_are_private(tmp_path, usual_umask):
    from lti_app.extensions import db

    data_dir = tmp_path / "srv" / "gradeloop"
    # development: the signing key and the secret key file are created at start, the default
    # SQLite database and broker files are the ones a `make run` or a small install uses.
    app = create_app(env="development", data_dir=str(data_dir))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    load_config(env="development", data_dir=str(data_dir))   # what every other process (worker) does
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    created = [data_dir, *data_dir.rglob("*")]
    assert {p.name for p in created} >= {"gradeloop.db", "broker.db", "secret_key", "keys", "current.pem"}
    shared = {str(p): oct(stat.S_IMODE(p.stat().st_mode)) for p in created if p.stat().st_mode & OTHERS}
    assert not shared


def test_existing_data_dir_keeps_the_mode_its_admin_gave_it(tmp_path, usual_umask):
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o750)
    data_dir.chmod(0o750)   # e.g. a group the backup user is in
    load_config(env="test", data_dir=str(data_dir))
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o750


def test_sqlite_file_outside_the_data_dir_is_left_to_sqlite(tmp_path, usual_umask):
    elsewhere = tmp_path / "elsewhere" / "x.db"
    load_config(env="test", data_dir=str(tmp_path / "data"), database_url=f"sqlite:///{elsewhere}")
    assert not elsewhere.exists() and not elsewhere.parent.exists()
