"""Withdrawing the tool's keys: `keys retire-previous`, `keys rotate --emergency`, a promotion that
another process's `ensure_keys` can never see half done, and a clear error for a key file this
user cannot read (e.g. one created by `sudo gradeloop ...`)."""
from __future__ import annotations

import os
import stat
import subprocess
import sys

import jwt
import pytest

from config.file_access import access_problem
from tests.conftest import ROOT
from lti_app.lti import keys


def published(app) -> list[str]:
    return [k["kid"] for k in app.test_client().get("/lti/jwks").get_json()["keys"]]


def cli(app, *args):
    return app.test_cli_runner().invoke(args=["keys", *args])


def rotated(app) -> tuple[str, str]:
    """(old kid, new kid) after a normal two-step rotation."""
    with app.app_context():
        old = keys.current_kid()
    for step in ("--prepare", "--promote"):
        out = cli(app, "rotate", step)
        assert out.exit_code == 0, out.output
    with app.app_context():
        return old, keys.current_kid()


def test_retire_previous_stops_publishing_it_and_deletes_it(app):
    old, new = rotated(app)
    assert published(app) == [new, old]
    max_age = app.test_client().get("/lti/jwks").cache_control.max_age
    out = cli(app, "retire-previous")
    assert out.exit_code == 0, out.output
    assert published(app) == [new]
    with app.app_context():
        assert sorted(p.name for p in keys.keys_dir().iterdir()) == ["current.pem"]
        assert keys.current_kid() == new
    assert old in out.output and f"{max_age} s" in out.output   # what platforms may still trust, and how long


def test_retire_previous_refuses_when_there_is_none(app):
    with app.app_context():
        kid = keys.current_kid()
    out = cli(app, "retire-previous")
    assert out.exit_code == 1
    assert "no previous key" in out.output and "Traceback" not in out.output
    assert published(app) == [kid]


def test_emergency_rotation_publishes_only_a_fresh_key_that_signs(app):
    with app.app_context():
        first = keys.current_kid()
    assert cli(app, "rotate", "--prepare").exit_code == 0   # a next key made before the leak
    prepared = published(app)[1]
    out = cli(app, "rotate", "--emergency")
    assert out.exit_code == 0, out.output
    [only] = app.test_client().get("/lti/jwks").get_json()["keys"]
    assert only["kid"] not in (first, prepared)          # the old next may have leaked with current
    with app.app_context():
        assert sorted(p.name for p in keys.keys_dir().iterdir()) == ["current.pem"]
        token = jwt.encode({"sub": "x"}, keys.tool_private_key(), algorithm="RS256",
                           headers={"kid": keys.current_kid()})
    assert jwt.get_unverified_header(token)["kid"] == only["kid"]
    assert jwt.decode(token, jwt.PyJWK(only).key, algorithms=["RS256"])["sub"] == "x"
    assert first in out.output and prepared in out.output   # says what it withdrew


def test_rotate_needs_exactly_one_step(app):
    out = cli(app, "rotate", "--prepare", "--emergency")
    assert out.exit_code == 2 and "choose one of" in out.output


def test_promote_never_leaves_a_moment_without_current_key(app, monkeypatch):
    """Another web process runs `ensure_keys()` (every signing and JWKS call does) after each
    rename of the promotion: it must find a current key each time, never make a stray one."""
    with app.app_context():
        first = keys.current_kid()
        assert cli(app, "rotate", "--prepare").exit_code == 0
        nxt = published(app)[1]
        seen = []
        real_replace = os.replace

        def replace_then_other_process(src, dst):
            real_replace(src, dst)
            keys.ensure_keys()
            seen.append(keys.current_kid())

        monkeypatch.setattr(os, "replace", replace_then_other_process)
        assert keys.promote_next() == nxt
        monkeypatch.undo()
        assert seen and set(seen) <= {first, nxt}, seen
        assert keys.current_kid() == nxt
    assert published(app) == [nxt, first]


def test_unreadable_key_file_is_named_with_its_owner(tmp_path):
    """A real unreadable key file and the real command line. Root reads any file whatever its mode,
    so as root (CI) the command runs without the two capabilities that allow that (`setpriv`),
    as a service user would."""
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "GRADELOOP_DATA_DIR": str(tmp_path / "data"),
           "GRADELOOP_DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}", "GRADELOOP_BROKER_URL": "memory://",
           "GRADELOOP_SECRET_KEY": "x"}
    command = [sys.executable, "-m", "lti_app.cli", "keys", "show"]
    made = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    path = tmp_path / "data" / "keys" / "current.pem"
    path.chmod(0)
    as_user = ["setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search", "--"] \
        if os.geteuid() == 0 else []
    out = subprocess.run(as_user + command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert str(path) in out.stderr and "mode 0000" in out.stderr and "chown" in out.stderr


def test_permission_error_on_a_key_file_becomes_the_clear_message(app, monkeypatch):
    """What the test above checks, for a root run: the error as a non-root service user sees it."""
    with app.app_context():
        keys.ensure_keys()
        path = keys.keys_dir() / "current.pem"
    keys._cache.clear()

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(type(path), "read_text", refuse)
    out = cli(app, "show")
    assert out.exit_code == 1 and out.exception.__class__ is SystemExit, out.output
    assert str(path) in out.output and "chown" in out.output
    with app.app_context(), pytest.raises(keys.KeyFileUnreadable, match="chown"):
        keys.public_jwks()   # what /lti/jwks and every signing call raise, into the web log


def test_access_problem_names_owner_mode_and_fix(tmp_path):
    data_dir = tmp_path / "data"
    path = data_dir / "keys" / "current.pem"
    path.parent.mkdir(parents=True)
    path.write_text("x")
    path.chmod(0o600)
    message = access_problem(path, data_dir)
    owner = path.stat().st_uid
    assert str(path) in message and "0600" in message and f"uid {owner}" in message
    assert "chown -R" in message and str(data_dir) in message and "service user" in message


def test_access_problem_names_the_folder_when_the_file_cannot_even_be_seen(tmp_path):
    folder = tmp_path / "keys"
    folder.mkdir(mode=0o700)
    message = access_problem(folder / "missing-or-hidden.pem", tmp_path)
    assert str(folder) in message and "0700" in message
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
