"""Feature settings a deployer sets in the environment reach the app's config, parsed; bad values
stop start-up with the variable's name; keyword overrides (what tests pass) still win."""
from __future__ import annotations

import logging

import pytest

from config.settings import FEATURE_SETTINGS, load_config
from lti_app import create_app

PRODUCTION = {"GRADELOOP_SECRET_KEY": "x" * 64, "GRADELOOP_PUBLIC_URL": "https://gradeloop.school.edu",
              "GRADELOOP_DATABASE_URL": "postgresql+psycopg://gradeloop:pw@db.school.edu:5432/gradeloop",
              "GRADELOOP_BROKER_URL": "amqp://gradeloop:pw@mq.school.edu:5672//"}


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in [*FEATURE_SETTINGS, "GRADELOOP_ENV", "GRADELOOP_SECRET_KEY", "GRADELOOP_PUBLIC_URL",
                 "GRADELOOP_DATABASE_URL", "GRADELOOP_BROKER_URL"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GRADELOOP_DATA_DIR", str(tmp_path))
    return monkeypatch


def test_environment_reaches_the_flask_config(clean_env, tmp_path):
    clean_env.setenv("GRADELOOP_REGISTRATION_ORIGINS", "https://canvas.school.edu/, https://moodle.school.edu")
    clean_env.setenv("GRADELOOP_FRAME_ANCESTORS", "https://canvas.school.edu")
    clean_env.setenv("GRADELOOP_TRAIN_BUDGET_S", "90")
    clean_env.setenv("GRADELOOP_FINETUNE", "never")
    clean_env.setenv("GRADELOOP_ROSTER_SECONDS", "0")
    clean_env.setenv("GRADELOOP_JWKS_RETRY_AFTER_FAILURE", "15")
    app = create_app(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert app.config["GRADELOOP_REGISTRATION_ORIGINS"] == ["https://canvas.school.edu", "https://moodle.school.edu"]
    assert app.config["GRADELOOP_FRAME_ANCESTORS"] == ["https://canvas.school.edu"]
    assert app.config["GRADELOOP_TRAIN_BUDGET_S"] == 90.0 and app.config["GRADELOOP_FINETUNE"] == "never"
    assert app.config["GRADELOOP_ROSTER_SECONDS"] == 0.0
    from lti_app.lti import jwks_cache

    with app.app_context():   # documented in README; the variable was read from the Flask config only
        assert jwks_cache._retry_after_failure() == 15.0


def test_unset_settings_stay_out_and_overrides_win(clean_env):
    assert not set(FEATURE_SETTINGS) & set(load_config().as_flask())
    clean_env.setenv("GRADELOOP_FINETUNE", "never")
    assert load_config(GRADELOOP_FINETUNE="always").as_flask()["GRADELOOP_FINETUNE"] == "always"


@pytest.mark.parametrize("name,value", [("GRADELOOP_FINETUNE", "sometimes"), ("GRADELOOP_TRAIN_BUDGET_S", "fast"),
                                        ("GRADELOOP_ROSTER_SECONDS", "-5"), ("GRADELOOP_JWKS_REFETCH_COOLDOWN", "nan")])
def test_bad_values_name_the_variable(clean_env, name, value):
    clean_env.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        load_config()


@pytest.mark.parametrize("name,value", [("GRADELOOP_SESSION_MINUTES", "2h"), ("GRADELOOP_MAX_ESSAY_CHARS", "100k"),
                                        ("GRADELOOP_MAX_UPLOAD_BYTES", "2MB"), ("GRADELOOP_HTTP_TIMEOUT", "10s"),
                                        ("GRADELOOP_SESSION_MINUTES", "0"), ("GRADELOOP_HTTP_TIMEOUT", "nan"),
                                        ("GRADELOOP_MAX_UPLOAD_BYTES", "-1")])
def test_bad_numbers_name_the_variable_and_the_value(clean_env, name, value):
    # int("2h") alone said "invalid literal for int() with base 10: '2h'", naming no variable.
    clean_env.setenv(name, value)
    with pytest.raises(ValueError) as caught:
        load_config()
    assert name in str(caught.value) and repr(value) in str(caught.value)


def test_numbers_from_the_environment(clean_env):
    clean_env.setenv("GRADELOOP_SESSION_MINUTES", " 45 ")
    clean_env.setenv("GRADELOOP_HTTP_TIMEOUT", "2.5")
    cfg = load_config()
    assert cfg.session_minutes == 45 and cfg.http_timeout == 2.5 and cfg.max_essay_chars == 100_000


@pytest.mark.parametrize("url,why", [("", "not set"), ("http://localhost:8000", "not an https"),
                                     ("https://localhost:8443", "names this machine"),
                                     ("https://127.0.0.1", "names this machine"),
                                     ("gradeloop.school.edu", "not an https")])
def test_production_refuses_a_public_url_no_lms_can_reach(clean_env, url, why):
    clean_env.setenv("GRADELOOP_SECRET_KEY", "x" * 64)
    clean_env.setenv("GRADELOOP_PUBLIC_URL", url)
    with pytest.raises(RuntimeError, match=f"GRADELOOP_PUBLIC_URL.*{why}"):
        load_config(env="production")
    assert load_config(env="development").public_url == url.rstrip("/")


def test_production_accepts_an_https_public_url(clean_env):
    clean_env.setenv("GRADELOOP_SECRET_KEY", "x" * 64)
    clean_env.setenv("GRADELOOP_PUBLIC_URL", "https://gradeloop.school.edu/")
    assert load_config(env="production").public_url == "https://gradeloop.school.edu"


def _production(env, **unset):
    for name, value in PRODUCTION.items():
        env.setenv(name, value)
    for name in unset:
        env.delenv(name)


@pytest.mark.parametrize("value,why", [(None, "it is not set"), ("instance", "'instance' is relative"),
                                       ("./data", "is relative to the working directory")])
def test_production_refuses_a_data_dir_that_is_not_an_absolute_path(clean_env, tmp_path, value, why):
    # The default, ./instance, depended on the working directory: two systemd units started in
    # different directories silently used two databases.
    _production(clean_env)
    clean_env.chdir(tmp_path)
    if value is None:
        clean_env.delenv("GRADELOOP_DATA_DIR")
    else:
        clean_env.setenv("GRADELOOP_DATA_DIR", value)
    with pytest.raises(RuntimeError, match=f"GRADELOOP_DATA_DIR must be set to an absolute path in production.*{why}"):
        load_config(env="production")
    assert load_config(env="development").data_dir == (tmp_path / (value or "instance")).resolve()


def test_production_refuses_a_short_secret_key(clean_env):
    _production(clean_env)
    clean_env.setenv("GRADELOOP_SECRET_KEY", "x" * 31)
    with pytest.raises(RuntimeError, match="GRADELOOP_SECRET_KEY must be at least 32 characters in production "
                                           r"\(generate one with: openssl rand -hex 32\), but it has 31"):
        load_config(env="production")
    clean_env.delenv("GRADELOOP_SECRET_KEY")
    with pytest.raises(RuntimeError, match="GRADELOOP_SECRET_KEY must be set in production"):
        load_config(env="production")
    clean_env.setenv("GRADELOOP_SECRET_KEY", "x" * 32)
    assert load_config(env="production").secret_key == "x" * 32
    clean_env.setenv("GRADELOOP_SECRET_KEY", "short")
    assert load_config(env="development").secret_key == "short"


def test_production_warns_about_the_embedded_sqlite_defaults(clean_env, caplog):
    _production(clean_env, GRADELOOP_DATABASE_URL=None, GRADELOOP_BROKER_URL=None)
    with caplog.at_level(logging.WARNING, logger="gradeloop.config"):
        cfg = load_config(env="production")
    assert cfg.database_url.startswith("sqlite:") and cfg.broker_url.startswith("sqla+sqlite:"), "a warning, not a refusal"
    warned = [r.getMessage() for r in caplog.records if r.name == "gradeloop.config"]
    assert len(warned) == 2 and "GRADELOOP_DATABASE_URL is SQLite" in warned[0] and "postgresql" in warned[0]
    assert "GRADELOOP_BROKER_URL is the embedded SQLite broker" in warned[1] and "amqp://" in warned[1]
    caplog.clear()
    _production(clean_env)
    with caplog.at_level(logging.WARNING, logger="gradeloop.config"):
        load_config(env="production")
        clean_env.delenv("GRADELOOP_DATABASE_URL")
        load_config(env="development")
    assert not [r for r in caplog.records if r.name == "gradeloop.config"]
