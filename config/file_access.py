"""Words for a data-directory file this process may not read: which file, whose it is, the fix.

The usual cause is a first command run as another user: `sudo gradeloop upgrade-db` creates
`keys/current.pem` as root (mode 0600), and the service user's web app then failed with a bare
PermissionError traceback somewhere inside the JWKS endpoint or a launch.
"""
from __future__ import annotations

import os
import pwd
import stat
from pathlib import Path


def _user(uid: int) -> str:
    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:   # a container's uid 1000 often has no name on the host
        return f"uid {uid}"


def _blocking(path: Path) -> tuple[Path, os.stat_result | None]:
    """`path` when it can be looked at, else the nearest folder above it that can: the one whose
    owner or mode keeps this process out."""
    for candidate in (path, *path.parents):
        try:
            return candidate, candidate.stat()
        except OSError:
            continue
    return path, None


def access_problem(path: Path, data_dir: Path) -> str:
    """Message for a PermissionError on `path`, a file in (or below) `data_dir`."""
    culprit, info = _blocking(Path(path))
    me = _user(os.geteuid())
    whose = (f"it belongs to {_user(info.st_uid)} with mode {stat.S_IMODE(info.st_mode):04o}"
             if info else "its folder cannot be looked into")
    return (f"Gradeloop, running as {me}, cannot use {culprit}: {whose}. A gradeloop command run as "
            f"another user (e.g. with sudo) probably created it. Run every gradeloop command as the "
            f"service user the web app and worker run as (sudo -u <service user> gradeloop ...), and "
            f"give the data directory back to that user: sudo chown -R <service user> {data_dir}")
