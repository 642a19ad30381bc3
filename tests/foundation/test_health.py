"""`/healthz` with the database down answers its own 503 JSON: the after-request hook that builds
the CSP frame-ancestors header reads the platforms table, and used to turn that answer into a 500
page. The hook now falls back to the last origins it computed (or 'self') and logs once."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import OperationalError

from lti_app import create_app, web_security
from lti_app.extensions import db
from tests.free_ports import held_port


@pytest.fixture(autouse=True)
def _fresh_fallback_state(monkeypatch):
    monkeypatch.setattr(web_security, "_outage_logged", False, raising=False)
    monkeypatch.setattr(web_security, "_last_good", {}, raising=False)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_healthz_reports_a_database_that_is_down(tmp_path, caplog, kind):
    with held_port() as closed:   # bound here and not listening: connecting is refused at once
        url = (f"sqlite:///{tmp_path}/no-such-dir/gradeloop.db" if kind == "sqlite"
               else f"postgresql+psycopg://gradeloop:x@127.0.0.1:{closed}/gradeloop?connect_timeout=5")
        # env=development: errors become pages, as in production (test mode would re-raise them).
        app = create_app(database_url=url, data_dir=tmp_path / "data", env="development")
        assert "lti" in app.blueprints, "the frame-ancestors hook queries platforms only with LTI on"
        client = app.test_client()
        with caplog.at_level(logging.WARNING, logger="lti_app.web_security"):
            for _ in range(2):
                answer = client.get("/healthz")
                assert answer.status_code == 503, answer.data[:300]
                assert answer.is_json and answer.json == {"status": "error", "database": "OperationalError"}
                assert answer.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    fallbacks = [r for r in caplog.records if "frame_ancestors_fallback" in r.getMessage()]
    assert len(fallbacks) == 1, "logged once per outage, not once per response"


def test_fallback_keeps_the_last_known_origins(tmp_path, monkeypatch):
    from lti_app.lti import framing

    app = create_app(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", data_dir=tmp_path / "data", env="test")
    with app.app_context():
        db.create_all()
    client = app.test_client()
    monkeypatch.setattr(framing, "platform_origins", lambda: ["https://canvas.school.edu"])
    assert client.get("/healthz").headers["Content-Security-Policy"] == \
        "frame-ancestors 'self' https://canvas.school.edu"

    def down():
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(framing, "platform_origins", down)
    answer = client.get("/healthz")   # test mode re-raises errors: this would raise without the fallback
    assert answer.status_code == 200
    assert answer.headers["Content-Security-Policy"] == "frame-ancestors 'self' https://canvas.school.edu"


def test_configured_ancestors_need_no_database(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADELOOP_FRAME_ANCESTORS", "https://lms.school.edu")
    app = create_app(database_url=f"sqlite:///{tmp_path}/no-such-dir/gradeloop.db", data_dir=tmp_path / "data",
                     env="development")
    answer = app.test_client().get("/healthz")
    assert answer.status_code == 503
    assert answer.headers["Content-Security-Policy"] == "frame-ancestors https://lms.school.edu"
