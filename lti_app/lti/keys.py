"""The tool's own RSA signing keys: created on first start in `<data dir>/keys/` (mode 0600,
never committed), published at `/lti/jwks`, rotated with `gradeloop keys rotate`.

Files: `current.pem` signs everything; `next.pem` (optional) is published ahead of time so
platforms that cache our JWKS already know it when it is promoted; `previous.pem` stays
published after a promotion so tokens signed just before it still verify.

Other features sign with `tool_private_key()` and put `current_kid()` in the JWT header
(Deep Linking responses, AGS/NRPS client assertions).
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from pathlib import Path

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app
from flask.cli import with_appcontext

SLOTS = ("current", "next", "previous")
_lock = threading.Lock()
# (path, mtime_ns) -> (private PEM, kid, public JWK): key files are read once per change.
_cache: dict[tuple[str, int], tuple[str, str, dict]] = {}


def keys_dir() -> Path:
    return Path(current_app.config["GRADELOOP_DATA_DIR"]) / "keys"


def _b64(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _public_jwk(private_pem: str) -> tuple[str, dict]:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "e": _b64(numbers.e), "n": _b64(numbers.n)}
    # RFC 7638 thumbprint: a stable kid that changes exactly when the key does.
    canonical = json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
    return kid, {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


def _new_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write_exclusive(path: Path, data: bytes) -> bool:
    """Create `path` with mode 0600 unless it exists; safe when several workers start at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    try:
        os.link(tmp, path)  # atomic and fails if another process won the race
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink()


def _load(slot: str) -> tuple[str, str, dict] | None:
    path = keys_dir() / f"{slot}.pem"
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        return None
    cached = _cache.get((str(path), mtime))
    if cached is None:
        pem = path.read_text()
        kid, jwk = _public_jwk(pem)
        cached = (pem, kid, jwk)
        with _lock:
            _cache[(str(path), mtime)] = cached
    return cached


def ensure_keys() -> None:
    """Generate the current key on first start."""
    path = keys_dir() / "current.pem"
    if not path.exists():
        _write_exclusive(path, _new_pem())


def tool_private_key() -> str:
    """PEM of the key the tool signs with now."""
    ensure_keys()
    return _load("current")[0]


def current_kid() -> str:
    """`kid` to put in the header of JWTs signed with `tool_private_key()`."""
    ensure_keys()
    return _load("current")[1]


def public_jwks() -> dict:
    """JWKS document: current key first, then next and previous when present."""
    ensure_keys()
    return {"keys": [entry[2] for entry in (_load(s) for s in SLOTS) if entry]}


def prepare_next() -> str:
    """Create `next.pem` (published, not yet used) and return its kid."""
    path = keys_dir() / "next.pem"
    _write_exclusive(path, _new_pem())
    return _load("next")[1]


def promote_next() -> str:
    """Make `next` the signing key; the old one stays published as `previous`."""
    folder = keys_dir()
    if not (folder / "next.pem").exists():
        raise click.ClickException("no next key: run `gradeloop keys rotate --prepare` first")
    os.replace(folder / "current.pem", folder / "previous.pem")
    os.replace(folder / "next.pem", folder / "current.pem")
    return current_kid()


keys_group = click.Group("keys", help="The tool's signing keys (published at /lti/jwks).")


@keys_group.command("rotate")
@click.option("--prepare", "step", flag_value="prepare", help="create and publish a next key")
@click.option("--promote", "step", flag_value="promote", help="sign with the next key from now on")
@with_appcontext
def rotate_command(step: str | None) -> None:
    """Two steps, some hours apart so platforms refresh their cache: --prepare, then --promote."""
    if step == "prepare":
        click.echo(f"next key {prepare_next()} is published; promote it once platforms have fetched it")
    elif step == "promote":
        click.echo(f"signing with {promote_next()}; the old key stays published as previous")
    else:
        raise click.UsageError("choose --prepare or --promote")


@keys_group.command("show")
@with_appcontext
def show_command() -> None:
    """Print the published JWKS."""
    click.echo(json.dumps(public_jwks(), indent=2))
