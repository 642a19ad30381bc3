"""Verifying JWTs the tool signs (token-endpoint client assertions, deep linking responses)
against the tool's JWKS, fetched over HTTP from `<tool>/lti/jwks` (refetched once for an unknown
kid, so a tool that rotates keys keeps working) or against registered public keys.

lti1p3platform's `tool_validate_and_decode` is not used: it turns off audience checks, caches the
tool key set forever (a rotated tool key fails until restart) and checks no iss/sub/exp/jti.
"""
from __future__ import annotations

import jwt
import requests
from jwt.algorithms import RSAAlgorithm

from lti_app.sandbox.state import PlatformState

ALGORITHMS = ("RS256", "RS384", "RS512")


class ToolJWTError(ValueError):
    """The tool's JWT is malformed, unsigned by a tool key, or its claims are wrong."""


def _fetch_jwks(state: PlatformState) -> dict:
    try:
        resp = requests.get(state.tool.jwks_url, timeout=5, headers={"Accept": "application/json"})
        resp.raise_for_status()
        data = resp.json()
    except (requests.RequestException, ValueError) as exc:
        raise ToolJWTError(f"could not fetch the tool's key set from {state.tool.jwks_url}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise ToolJWTError(f"the tool's key set at {state.tool.jwks_url} is not a JWKS")
    with state.lock:
        state.tool_jwks_cache = data
    return data


def _find_key(keys: dict | None, kid: str):
    for jwk in (keys or {}).get("keys", []):
        if isinstance(jwk, dict) and jwk.get("kid") == kid and jwk.get("kty") == "RSA":
            return RSAAlgorithm.from_jwk(jwk)
    return None


def tool_public_key(state: PlatformState, kid: str):
    key = _find_key(state.tool.public_jwks, kid) or _find_key(state.tool_jwks_cache, kid)
    if key is None and state.tool.jwks_url:
        key = _find_key(_fetch_jwks(state), kid)
    if key is None:
        raise ToolJWTError(f"no tool key with kid {kid!r}")
    return key


def verify_tool_jwt(state: PlatformState, token: str, *, audience: str | list[str]) -> dict:
    """Signature (tool key by kid), exp/iat and aud; the caller checks the message claims."""
    if not token or not isinstance(token, str):
        raise ToolJWTError("no JWT was sent")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise ToolJWTError(f"malformed JWT: {exc}") from exc
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise ToolJWTError(f"JWT alg {alg!r} is not allowed (use RS256)")
    if not header.get("kid"):
        raise ToolJWTError("JWT header has no kid")
    key = tool_public_key(state, header["kid"])
    try:
        return jwt.decode(token, key, algorithms=[alg], audience=audience, leeway=5,
                          options={"require": ["exp", "iat", "iss", "aud"]})
    except jwt.PyJWTError as exc:
        raise ToolJWTError(f"JWT rejected: {exc}") from exc
