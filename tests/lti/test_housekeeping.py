"""Expired login states, nonces and deep linking requests are purged; live ones stay."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from lti_app.extensions import db
from lti_app.models import DeepLinkingRequest, LoginState, UsedNonce
from lti_app.platforms import upsert_platform


def test_purge_keeps_live_rows_and_deletes_expired(app):
    now = datetime.now(timezone.utc)
    with app.app_context():
        pid = upsert_platform(issuer="https://lms.example", client_id="c", deployment_ids=["d"],
                              auth_login_url="https://lms.example/a", auth_token_url="https://lms.example/t",
                              key_set_url="https://lms.example/k").id
        for name, age in (("old", timedelta(hours=2)), ("new", timedelta(minutes=1))):
            db.session.add(LoginState(state=name, nonce=name, browser_binding="h", platform_id=pid,
                                      created_at=now - age))
            db.session.add(UsedNonce(nonce=name, platform_id=pid,
                                     expires_at=now - timedelta(minutes=1) if name == "old" else now + timedelta(minutes=5)))
            db.session.add(DeepLinkingRequest(launch_id=name, platform_id=pid, deployment_id="d", settings={},
                                              created_at=now - age * 100))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["lti", "purge"])
    assert result.exit_code == 0, result.output
    assert "1 login_states, 1 used_nonces, 1 deep_linking_requests deleted" in result.output
    with app.app_context():
        assert [r.state for r in db.session.scalars(db.select(LoginState))] == ["new"]
        assert [r.nonce for r in db.session.scalars(db.select(UsedNonce))] == ["new"]
        assert [r.launch_id for r in db.session.scalars(db.select(DeepLinkingRequest))] == ["new"]
