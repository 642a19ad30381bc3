"""Feature settings a deployer sets in the environment reach the app's config, parsed; bad values
stop start-up with the variable's name; keyword overrides (what tests pass) still win."""
from __future__ import annotations

import pytest

from config.settings import FEATURE_SETTINGS, load_config
from lti_app import create_app


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in FEATURE_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GRADELOOP_DATA_DIR", str(tmp_path))
    return monkeypatch


def test_environment_reaches_the_flask_config(clean_env, tmp_path):
    clean_env.setenv("GRADELOOP_REGISTRATION_ORIGINS", "https://canvas.school.edu/, https://moodle.school.edu")
    clean_env.setenv("GRADELOOP_FRAME_ANCESTORS", "https://canvas.school.edu")
    clean_env.setenv("GRADELOOP_TRAIN_BUDGET_S", "90")
    clean_env.setenv("GRADELOOP_FINETUNE", "never")
    clean_env.setenv("GRADELOOP_ROSTER_SECONDS", "0")
    app = create_app(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert app.config["GRADELOOP_REGISTRATION_ORIGINS"] == ["https://canvas.school.edu", "https://moodle.school.edu"]
    assert app.config["GRADELOOP_FRAME_ANCESTORS"] == ["https://canvas.school.edu"]
    assert app.config["GRADELOOP_TRAIN_BUDGET_S"] == 90.0 and app.config["GRADELOOP_FINETUNE"] == "never"
    assert app.config["GRADELOOP_ROSTER_SECONDS"] == 0.0


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
