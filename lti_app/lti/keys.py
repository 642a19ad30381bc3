"""The tool's own RSA signing keys: created on first start in `<data dir>/keys/` (mode 0600,
never committed), published at `/lti/jwks`, rotated, withdrawn and replaced in an emergency with
`gradeloop keys ...` (docs/lti.md, "Keys").

Files: `current.pem` signs everything; `next.pem` (optional) is published ahead of time so
platforms that cache our JWKS already know it when it is promoted; `previous.pem` stays
published after a promotion so tokens signed just before it still verify, until
`keys retire-previous` withdraws it.

Web and worker processes read the folder on every use (a file is parsed again only when it
changes), so every step here is a single atomic link, rename or unlink that they may see at any
moment; `current.pem` in particular is never missing, or `ensure_keys()` would make a new one.

Other features sign with `tool_private_key()` and put `current_kid()` in the JWT header
(Deep Linking responses, AGS/NRPS client assertions).
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from contextlib import contextmanager
from pathlib import Path

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app
from flask.cli import with_appcontext

from config.file_access import access_problem

SLOTS = ("current", "next", "previous")
_lock = threading.Lock()
# (path, inode, mtime_ns) -> (private PEM, kid, public JWK): key files are read once per change.
# The inode too: a promotion renames next.pem over current.pem, and two files made within one
# clock tick can share an mtime.
_cache: dict[tuple[str, int, int], tuple[str, str, dict]] = {}


class KeyFileUnreadable(click.ClickException):
    """A key file (or its folder) this process may not read; the message says whose it is and
    what to do. A ClickException, so the CLI prints it without a traceback."""


def keys_dir() -> Path:
    return Path(current_app.config["GRADELOOP_DATA_DIR"]) / "keys"


@contextmanager
def _access(path: Path):
    """Turn a PermissionError on `path` (or the file the error names) into `KeyFileUnreadable`."""
    try:
        yield
    except PermissionError as exc:
        raise KeyFileUnreadable(access_problem(Path(exc.filename or path), keys_dir().parent)) from exc


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


def _temp_name(path: Path) -> Path:
    """A name beside `path` that only this thread uses. One left by a killed process is removed:
    in a container every run of a command is pid 1, so the same name comes back."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.unlink(missing_ok=True)
    return tmp


def _write_exclusive(path: Path, data: bytes) -> bool:
    """Create `path` with mode 0600 unless it exists; safe when several workers start at once."""
    with _access(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        tmp = _temp_name(path)
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
    with _access(path):
        try:
            info = path.stat()
        except FileNotFoundError:
            return None
        key = (str(path), info.st_ino, info.st_mtime_ns)
        cached = _cache.get(key)
        if cached is None:
            pem = path.read_text()
            kid, jwk = _public_jwk(pem)
            cached = (pem, kid, jwk)
            with _lock:
                _cache[key] = cached
    return cached


def ensure_keys() -> None:
    """Generate the current key on first start. Reading it here makes a key file this user may
    not read stop the start-up with `KeyFileUnreadable`, not the first launch that signs."""
    if _load("current") is None:
        _write_exclusive(keys_dir() / "current.pem", _new_pem())


def tool_private_key() -> str:
    """PEM of the key the tool signs with now."""
    ensure_keys()
    return _load("current")[0]


def current_kid() -> str:
    """`kid` to put in the header of JWTs signed with `tool_private_key()`."""
    ensure_keys()
    return _load("current")[1]


def _published() -> dict[str, dict]:
    """kid -> public JWK of every key file present, in `SLOTS` order. By kid: while a promotion
    runs, previous.pem is briefly the same file as current.pem."""
    return {entry[1]: entry[2] for entry in map(_load, SLOTS) if entry}


def public_jwks() -> dict:
    """JWKS document: current key first, then next and previous when present."""
    ensure_keys()
    return {"keys": list(_published().values())}


def prepare_next() -> str:
    """Create `next.pem` (published, not yet used) and return its kid."""
    path = keys_dir() / "next.pem"
    _write_exclusive(path, _new_pem())
    return _load("next")[1]


def promote_next() -> str:
    """Make `next` the signing key; the old one stays published as `previous`.

    Two renames (current -> previous, next -> current) left a moment without current.pem, in
    which another process's `ensure_keys()` made a stray key that signed and was then
    overwritten. So: link previous.pem to the current file first, then rename next over current
    in one step."""
    folder = keys_dir()
    nxt, current, previous = (folder / f"{slot}.pem" for slot in ("next", "current", "previous"))
    with _access(folder):
        if not nxt.exists():
            raise click.ClickException("no next key: run `gradeloop keys rotate --prepare` first")
        linked = _temp_name(previous)
        try:
            os.link(current, linked)
        except FileNotFoundError:
            pass   # no current key was ever made: nothing signed that must still verify
        else:
            os.replace(linked, previous)
        os.replace(nxt, current)
    return current_kid()


def retire_previous() -> str:
    """Stop publishing `previous` (e.g. it leaked) and delete it; returns its kid."""
    path = keys_dir() / "previous.pem"
    entry = _load("previous")
    if entry is None:
        raise click.ClickException("no previous key to retire: /lti/jwks publishes only the current key"
                                   " (and a prepared next one); `gradeloop keys show` lists them")
    with _access(path):
        path.unlink(missing_ok=True)   # missing: a second retire-previous at the same moment
    return entry[1]


def emergency_rotate() -> tuple[str, list[str]]:
    """Sign with a brand-new key at once and publish nothing else; returns (new kid, withdrawn kids).

    A prepared next key is discarded, not promoted: whoever copied current.pem from the keys
    folder could have copied next.pem with it."""
    withdrawn = list(_published())
    path = keys_dir() / "next.pem"
    with _access(path):
        path.unlink(missing_ok=True)
    prepare_next()
    promote_next()
    retire_previous()
    return current_kid(), withdrawn


def jwks_max_age() -> int | None:
    """Seconds a platform (or a proxy) may keep our JWKS, read from the endpoint's own answer so
    the number an admin is told is the one platforms get. The view alone, not a whole request:
    the app's other response hooks would look up the database for headers that do not matter."""
    with current_app.test_request_context():
        response = current_app.make_response(current_app.view_functions["lti.jwks"]())
    return response.cache_control.max_age


def _still_trusted(kids: list[str]) -> str:
    age = jwks_max_age()
    return (f"Platforms that fetched /lti/jwks earlier may trust {', '.join(kids)} until their copy expires: "
            f"up to {age} s by its Cache-Control max-age (an LMS may keep it longer; a platform set up "
            f"with a pasted public key instead of the JWKS URL trusts it until that key is replaced there).")


keys_group = click.Group("keys", help="The tool's signing keys (published at /lti/jwks).")


@keys_group.command("rotate")
@click.option("--prepare", is_flag=True, help="create and publish a next key")
@click.option("--promote", is_flag=True, help="sign with the next key from now on")
@click.option("--emergency", is_flag=True,
              help="a key leaked: sign with a new key now and withdraw all others (docs/lti.md)")
@with_appcontext
def rotate_command(prepare: bool, promote: bool, emergency: bool) -> None:
    """Two steps, some hours apart so platforms refresh their cache: --prepare, then --promote.
    --emergency does both and retire-previous at once, at the cost of refused grade posts until
    platforms refetch /lti/jwks."""
    if prepare + promote + emergency != 1:
        raise click.UsageError("choose one of --prepare, --promote or --emergency")
    if prepare:
        click.echo(f"next key {prepare_next()} is published; promote it once platforms have fetched it")
    elif promote:
        click.echo(f"signing with {promote_next()}; the old key stays published as previous "
                   "(`gradeloop keys retire-previous` withdraws it)")
    else:
        kid, withdrawn = emergency_rotate()
        click.echo(f"signing with {kid}, the only key published now; withdrew {', '.join(withdrawn) or 'none'}.\n"
                   f"{_still_trusted(withdrawn)}\nUntil a platform refetches, it refuses what the new key "
                   "signs: grade posts fail with the LMS's refusal and are not retried by themselves; send "
                   "them again after that time (docs/lti.md, \"Keys\").")


@keys_group.command("retire-previous")
@with_appcontext
def retire_command() -> None:
    """Stop publishing the previous key (after a rotation, or at once when it leaked)."""
    kid = retire_previous()
    click.echo(f"key {kid} is no longer published or stored. {_still_trusted([kid])}")


@keys_group.command("show")
@with_appcontext
def show_command() -> None:
    """Print the published JWKS."""
    click.echo(json.dumps(public_jwks(), indent=2))
