"""The platform's RSA signing keys: a key ring with rotation and a JWKS, plus a per-process key pool.

RSA generation costs ~0.1 s a key on a busy CI core, so keys come from a module-level pool that a
test session fills once and every peer reuses (fixture start-up stays well under 0.5 s).
Signing uses PyJWT directly rather than lti1p3platform's `Registration.platform_encode_and_sign`:
that helper derives the kid from the one private key it holds, so it cannot publish an old key
next to a new one, and it cannot sign with a chosen kid/alg/key for bad-token tests.
"""
from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

_POOL: list[rsa.RSAPrivateKey] = []
_NAMED: dict[str, rsa.RSAPrivateKey] = {}
_POOL_LOCK = threading.Lock()


def new_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pooled_key(index: int) -> rsa.RSAPrivateKey:
    """The index-th key of this process's pool (generated on first use, then reused)."""
    with _POOL_LOCK:
        while len(_POOL) <= index:
            _POOL.append(new_private_key())
        return _POOL[index]


def named_key(name: str) -> rsa.RSAPrivateKey:
    """A cached key per name, e.g. a test tool key or an 'attacker' key."""
    with _POOL_LOCK:
        if name not in _NAMED:
            _NAMED[name] = new_private_key()
        return _NAMED[name]


def load_or_create_key(path: Path) -> rsa.RSAPrivateKey:
    """Development: keep the sandbox key in the data dir so the kid survives restarts."""
    if path.exists():
        return serialization.load_pem_private_key(path.read_bytes(), password=None)  # type: ignore[return-value]
    key = new_private_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(private_pem(key))
    path.chmod(0o600)
    return key


def private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def public_jwk(key, kid: str) -> dict:
    """Public JWK (RFC 7517) of an RSA private or public key."""
    public = key.public_key() if hasattr(key, "public_key") else key
    jwk = json.loads(RSAAlgorithm.to_jwk(public))
    jwk.update(kid=kid, alg="RS256", use="sig")
    return jwk


def thumbprint(key) -> str:
    """RFC 7638 thumbprint, used as a stable kid."""
    jwk = public_jwk(key, "")
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


@dataclass
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey
    retired_at: float | None = None   # when it stopped being current
    publish_until: float | None = None  # None: published while current


class KeyRing:
    """Current signing key plus recently retired keys that the JWKS still publishes."""

    def __init__(self, first: rsa.RSAPrivateKey | None = None, *, keep_old_seconds: float = 3600.0,
                 pool_offset: int = 0):
        self._lock = threading.Lock()
        self._next_pool = pool_offset
        self.keep_old_seconds = keep_old_seconds
        key = first or self._take_from_pool()
        self._keys: list[SigningKey] = [SigningKey(kid=thumbprint(key), private_key=key)]

    def _take_from_pool(self) -> rsa.RSAPrivateKey:
        key = pooled_key(self._next_pool)
        self._next_pool += 1
        return key

    @property
    def current(self) -> SigningKey:
        return self._keys[-1]

    def rotate(self, *, keep_old_seconds: float | None = None,
               new_key: rsa.RSAPrivateKey | None = None) -> str:
        """Make a new key current; the old one stays in the JWKS for `keep_old_seconds`
        (0: dropped at once, like a platform that rotates without overlap)."""
        keep = self.keep_old_seconds if keep_old_seconds is None else keep_old_seconds
        now = time.time()
        with self._lock:
            key = new_key or self._take_from_pool()
            old = self.current
            old.retired_at = now
            old.publish_until = now + keep
            self._keys.append(SigningKey(kid=thumbprint(key), private_key=key))
            return self.current.kid

    def published(self) -> list[SigningKey]:
        now = time.time()
        with self._lock:
            return [k for k in self._keys if k.publish_until is None or k.publish_until > now]

    def jwks(self) -> dict:
        return {"keys": [public_jwk(k.private_key, k.kid) for k in self.published()]}

    def find(self, kid: str) -> SigningKey | None:
        return next((k for k in self._keys if k.kid == kid), None)

    def sign(self, claims: dict, *, kid: str | None = None, alg: str = "RS256", key=None,
             headers: dict | None = None) -> str:
        """Sign `claims`. Defaults: the current key and its kid. `key` signs with another key
        (an attacker's, an HS256 secret, None for alg=none); `kid` sets the header only.
        A header given as None is left out: `headers={"kid": None}` signs a token without a kid."""
        if key is None and alg != "none":
            signing = self.find(kid) if kid else self.current
            key = (signing or self.current).private_key
        hdr = {"kid": kid or self.current.kid, "typ": "JWT"}
        hdr.update(headers or {})
        hdr = {name: value for name, value in hdr.items() if value is not None}
        return jwt.encode(dict(claims), key, algorithm=alg, headers=hdr)
