"""Deployments: a platform registered without one (Canvas's dynamic registration answers no
deployment_id) records the deployment of its first validly signed launch; any other deployment
is refused with the command that adds it."""
from __future__ import annotations

from lti_app.extensions import db
from lti_app.models import Deployment, Platform
from lti_app.platforms import upsert_platform
from lti_app.sandbox.keys import named_key
from tests.lti.conftest import assert_refused, page_text

DEPLOYMENT = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"
ROLES = "https://purl.imsglobal.org/spec/lti/claim/roles"


def deployments(tool_server, client_id: str) -> list[str]:
    with tool_server.app.app_context():
        platform = db.session.scalar(db.select(Platform).filter_by(client_id=client_id))
        return sorted(d.deployment_id for d in platform.deployments)


def test_canvas_style_registration_launches_and_records_its_deployment(peer, tool_server):
    tool_server.app.config["GRADELOOP_REGISTRATION_ORIGINS"] = [peer.url]
    peer.state.registration_answers_deployment = False      # as Canvas answers
    page = peer.dynamic_registration()
    assert page.status_code == 200, page_text(page)[:500]
    assert deployments(tool_server, peer.client_id) == []
    result = peer.launch(role="Learner", user_id="student-1")
    assert result.reached_launch and result.response.status_code == 200, page_text(result.response)[:800]
    assert deployments(tool_server, peer.client_id) == [peer.deployment_id]
    assert peer.launch(user_id="teacher-1").response.status_code == 200

    # Only the first deployment is adopted; another one names the command that adds it.
    other = peer.launch(user_id="teacher-2", claims={DEPLOYMENT: "canvas-subaccount-2"})
    assert_refused(other.response, "is not registered with this tool")
    text = page_text(other.response)
    assert (f"gradeloop platform add --issuer {peer.issuer} --client-id {peer.client_id} "
            f"--deployment-id canvas-subaccount-2") in text
    assert deployments(tool_server, peer.client_id) == [peer.deployment_id]


def test_only_a_launch_that_passes_every_check_records_the_deployment(make_peer, tool_server):
    peer = make_peer(register=False, client_id="no-deployment-client")
    with tool_server.app.app_context():
        upsert_platform(**{**peer.registration(), "deployment_ids": []})

    # Signed by someone else's key under the platform's kid: refused, nothing recorded.
    claims = peer.base_claims()
    claims[DEPLOYMENT] = "forged-deployment"
    forged = peer.launch(id_token=peer.sign(claims, key=named_key("attacker"), kid=peer.kid))
    assert_refused(forged.response, "signature")
    assert deployments(tool_server, peer.client_id) == []

    # Validly signed but refused by a later check (no roles claim): rolled back with the launch.
    refused = peer.launch(drop_claims=(ROLES,))
    assert_refused(refused.response, "no roles claim")
    assert deployments(tool_server, peer.client_id) == []

    assert peer.launch().response.status_code == 200
    assert deployments(tool_server, peer.client_id) == [peer.deployment_id]
    with tool_server.app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Deployment)) == 1


def test_unknown_deployment_of_a_hand_added_platform_names_the_command(peer):
    result = peer.launch(claims={DEPLOYMENT: "dep 2"})
    assert_refused(result.response, "is not registered with this tool")
    assert f"--client-id {peer.client_id} --deployment-id 'dep 2'" in page_text(result.response)
