"""pylti1p3's view of our database: `ToolConfAbstract` over `Platform`/`Deployment` rows.

Launch validation is ours (validation.py); pylti1p3 is used where it is sound and saves work:
building Deep Linking responses (`pylti1p3.deep_link.DeepLink`) and, for other features,
its registration objects. The tool key comes from keys.py.
"""
from __future__ import annotations

from pylti1p3.deployment import Deployment as PyDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract

from lti_app.extensions import db
from lti_app.lti.keys import tool_private_key
from lti_app.models import Platform


def public_pem(private_pem: str) -> str:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def registration_for(platform: Platform) -> Registration:
    private = tool_private_key()
    reg = Registration()
    reg.set_issuer(platform.issuer).set_client_id(platform.client_id)
    reg.set_auth_login_url(platform.auth_login_url).set_auth_token_url(platform.auth_token_url)
    reg.set_key_set_url(platform.key_set_url).set_key_set(platform.key_set)
    if platform.auth_audience:
        reg.set_auth_audience(platform.auth_audience)
    reg.set_tool_private_key(private).set_tool_public_key(public_pem(private))
    return reg


class DbToolConf(ToolConfAbstract):
    """Every issuer may have several client ids (one per LMS developer key)."""

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def _platform(self, iss: str, client_id: str | None) -> Platform | None:
        query = db.select(Platform).filter_by(issuer=iss)
        if client_id:
            query = query.filter_by(client_id=client_id)
        return db.session.scalars(query).first()

    def find_registration_by_issuer(self, iss, *args, **kwargs):
        platform = self._platform(iss, None)
        return registration_for(platform) if platform else None

    def find_registration_by_params(self, iss, client_id, *args, **kwargs):
        platform = self._platform(iss, client_id)
        return registration_for(platform) if platform else None

    def find_deployment(self, iss, deployment_id):
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(self, iss, deployment_id, client_id, *args, **kwargs):
        platform = self._platform(iss, client_id)
        if platform is None or not platform.has_deployment(deployment_id):
            return None
        return PyDeployment().set_deployment_id(deployment_id)
