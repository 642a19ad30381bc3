"""Worker settings from the environment: parsed to their types, and a bad value stops the worker
with the setting's name (not a bare "invalid literal for int()")."""
import pytest

from worker.settings import WorkerSettings


def test_worker_settings_are_parsed_and_bad_ones_named(monkeypatch):
    monkeypatch.setenv("GRADELOOP_RETRY_MAX_ATTEMPTS", "7")
    monkeypatch.setenv("GRADELOOP_LEASE_SECONDS", "90.5")
    settings = WorkerSettings.from_app(None)
    assert settings.max_attempts == 7 and settings.lease_seconds == 90.5
    monkeypatch.setenv("GRADELOOP_RELAY_BATCH", "2h")
    with pytest.raises(ValueError, match=r"GRADELOOP_RELAY_BATCH must be a whole number, got '2h'"):
        WorkerSettings.from_app(None)
