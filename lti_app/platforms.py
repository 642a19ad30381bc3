"""Platform registration (CLI, dynamic registration and the sandbox all go through here)."""
from __future__ import annotations

from urllib.parse import urlparse

from lti_app.extensions import db
from lti_app.models import Deployment, Platform


def _check_url(name: str, value: str) -> None:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"{name} must be an http(s) URL, got {value!r}")


def upsert_platform(*, issuer: str, client_id: str, deployment_ids, auth_login_url: str,
                    auth_token_url: str, key_set_url: str, name: str = "",
                    auth_audience: str | None = None, product_family: str | None = None) -> Platform:
    """Create or update the platform (issuer, client_id) and add any new deployment ids."""
    if not issuer or not client_id:
        raise ValueError("issuer and client id are required")
    for field, url in (("auth login URL", auth_login_url), ("auth token URL", auth_token_url),
                       ("key set URL", key_set_url)):
        _check_url(field, url)
    platform = db.session.scalar(db.select(Platform).filter_by(issuer=issuer, client_id=client_id))
    if platform is None:
        platform = Platform(issuer=issuer, client_id=client_id)
        db.session.add(platform)
    platform.name = name or platform.name or urlparse(issuer).netloc
    platform.auth_login_url = auth_login_url
    platform.auth_token_url = auth_token_url
    platform.key_set_url = key_set_url
    platform.auth_audience = auth_audience
    platform.product_family = product_family or platform.product_family
    known = {d.deployment_id for d in platform.deployments}
    for dep in deployment_ids:
        if dep and dep not in known:
            platform.deployments.append(Deployment(deployment_id=dep))
            known.add(dep)
    db.session.commit()
    from lti_app.lti import registry

    registry.forget()  # this process's platform snapshot must see the change at once
    return platform
