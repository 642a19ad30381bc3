"""Running the web app for real: gunicorn as the WSGI server, and applying migrations."""
from __future__ import annotations

import math
import os
from pathlib import Path

# gunicorn's default access line has the query string and the Referer. Inside an LMS iframe the
# tool session travels as `?lt=<launch token>` (cookies may be refused there), so those fields
# would write working two-hour credentials into every access log: path only, no Referer.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss "%(a)s"'


# Web process count. Every gunicorn process has its own SQLAlchemy pool, and each of its request
# threads holds one PostgreSQL connection while it serves a request, so peak connections are about
# processes x threads (docs/operations.md, "Database connections"). The old default, 2 x
# os.cpu_count(), counted the host's cores even in a container limited to two, and on a 16-core
# host asked for 32 x 4 = 128 connections: past PostgreSQL's default max_connections of 100 before
# any worker connected. So: 2 per CPU this process may really use, at least 2, at most
# WEB_WORKERS_CAP (8 x 4 threads = 32 connections); GRADELOOP_WEB_WORKERS or --workers overrides.
WEB_WORKERS_CAP = 8
WEB_WORKERS_ENV = "GRADELOOP_WEB_WORKERS"
CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")


def _cgroup_dirs(root: Path, path: str) -> list[Path]:
    """`root/path` and each of its ancestors up to `root` (a limit on any of them applies)."""
    parts = [p for p in path.strip().split("/") if p]
    dirs = [root.joinpath(*parts[:n]) for n in range(len(parts), -1, -1)]
    return list(dict.fromkeys(dirs))


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def cgroup_cpu_limit(root: Path | None = None, proc_cgroup: Path | None = None) -> float | None:
    """CPUs granted by a cgroup CPU quota (docker --cpus, Kubernetes limits), or None without one.

    cgroup v2: `cpu.max` holds "<quota> <period>" or "max <period>". cgroup v1: `cpu.cfs_quota_us`
    (-1 when unlimited) over `cpu.cfs_period_us`. Inside a container the process's own cgroup is
    usually mounted at the root; on a host it is the path in /proc/self/cgroup. The smallest quota
    along the way wins, as the kernel enforces every level."""
    root, proc_cgroup = root or CGROUP_ROOT, proc_cgroup or PROC_CGROUP
    lines = (_read(proc_cgroup) or "").splitlines()
    v2_path = next((line.split(":", 2)[2] for line in lines if line.startswith("0::")), None)
    v1_path = next((line.split(":", 2)[2] for line in lines
                    if line.count(":") >= 2 and "cpu" in line.split(":", 2)[1].split(",")), None)
    limits = []
    for directory in _cgroup_dirs(root, v2_path or "/"):
        fields = (_read(directory / "cpu.max") or "").split()
        if len(fields) == 2 and fields[0] != "max":
            try:
                limits.append(int(fields[0]) / int(fields[1]))
            except (ValueError, ZeroDivisionError):
                pass
    for mount in (root / "cpu,cpuacct", root / "cpuacct,cpu", root / "cpu"):
        for directory in _cgroup_dirs(mount, v1_path or "/"):
            quota, period = _read(directory / "cpu.cfs_quota_us"), _read(directory / "cpu.cfs_period_us")
            try:
                if quota is not None and period is not None and int(quota) > 0:
                    limits.append(int(quota) / int(period))
            except (ValueError, ZeroDivisionError):
                pass
    return min(limits) if limits else None


def available_cpus(root: Path | None = None, proc_cgroup: Path | None = None) -> int:
    """CPUs this process may use: its affinity mask (taskset, cpusets), further limited by a
    cgroup CPU quota rounded up; os.cpu_count() counts the whole host."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cpus = os.cpu_count() or 1
    quota = cgroup_cpu_limit(root, proc_cgroup)
    if quota is not None:
        cpus = min(cpus, math.ceil(quota))
    return max(1, cpus)


def default_web_workers(cpus: int | None = None) -> int:
    """gunicorn processes when neither --workers nor GRADELOOP_WEB_WORKERS says: see above."""
    from config.settings import env_int

    configured = env_int(WEB_WORKERS_ENV, 0, minimum=1)
    if configured:
        return configured
    cpus = available_cpus() if cpus is None else cpus
    return min(WEB_WORKERS_CAP, max(2, 2 * cpus))


def gunicorn_options(host: str, port: int, *, workers: int | None = None, threads: int = 4) -> dict:
    """The gunicorn settings `serve` applies (a function so tests can check them without serving)."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers or default_web_workers(),
        "threads": threads,
        "worker_class": "gthread",
        "accesslog": os.environ.get("GRADELOOP_ACCESS_LOG") or None,
        "access_log_format": ACCESS_LOG_FORMAT,
        "timeout": 60,
        "graceful_timeout": 20,
    }


def upgrade_database() -> None:
    """Bring the database to the latest Alembic revision (inside an app context)."""
    from flask_migrate import upgrade

    upgrade()


def _migrations() -> tuple[set[str], object]:
    """(revisions the database records, this code's migration scripts), inside an app context."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from flask import current_app

    from lti_app.extensions import db

    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    with db.engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads()), script


def pending_migrations() -> list[str]:
    """Every revision `db upgrade` would apply, oldest first (inside an app context): a database
    several releases behind misses all of them, not only the newest (the heads)."""
    current, script = _migrations()
    missing = script.iterate_revisions("heads", tuple(current) or "base")
    return [revision.revision for revision in reversed(list(missing))]


def missing_words(pending: list[str]) -> str:
    """`pending_migrations` in words: how many, and from which to which."""
    if len(pending) == 1:
        return f"missing migration {pending[0]}"
    return f"missing {len(pending)} migrations, {pending[0]} to {pending[-1]}"


def newer_migrations() -> list[str]:
    """Revisions the database records that this code does not have: a newer release migrated it
    (an upgrade rolled back by reinstalling the old release without downgrading the database)."""
    current, script = _migrations()
    known = {rev.revision for rev in script.walk_revisions()}
    return sorted(current - known)


def newer_database_message(revisions: list[str]) -> str:
    # "Run `db upgrade`" (what the missing-migration check said) fails here with "Can't locate
    # revision": only the newer release knows how to go back.
    return (f"The database was migrated by a newer release of Gradeloop (revision {', '.join(revisions)}, "
            "which this release does not have). Run that release, or, with that release installed, "
            "downgrade the database to this release's last migration (`gradeloop db downgrade <revision>`, "
            "docs/deployment.md) before starting this one.")


def schema_problem() -> str | None:
    """Why the database cannot serve this code, in words, or None (inside an app context).

    Empty, or behind the code's migrations: every job or page would fail on a missing table or
    column. A database that has the tables but no migration record (built by `create_all`, as the
    test suite does) is taken as current."""
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    from lti_app.extensions import db

    with db.engine.connect() as conn:
        recorded = MigrationContext.configure(conn).get_current_heads()
        has_tables = inspect(conn).has_table("assignments")
    if not recorded and not has_tables:
        return "The database is empty: run `gradeloop db upgrade` first."
    newer = newer_migrations() if recorded else []
    if newer:
        return newer_database_message(newer)
    pending = pending_migrations() if recorded else []
    if pending:
        return (f"The database is behind this version of Gradeloop ({missing_words(pending)}): "
                "run `gradeloop db upgrade` first.")
    return None


def serve(host: str, port: int, *, workers: int | None = None, threads: int = 4,
          migrate: bool = False) -> None:
    """Serve the app under gunicorn (gthread workers: LTI launches wait on platform HTTP).

    Refuses to start on a database that is behind the migrations (every page would fail),
    unless `migrate` asks to apply them first."""
    from gunicorn.app.base import BaseApplication

    from lti_app import create_app

    options = gunicorn_options(host, port, workers=workers, threads=threads)  # a bad setting stops here
    app = create_app()
    with app.app_context():
        if newer := newer_migrations():
            raise SystemExit(newer_database_message(newer))
        if pending := pending_migrations():
            if not migrate:
                raise SystemExit(f"The database is not migrated yet ({missing_words(pending)}): run "
                                 "`gradeloop db upgrade` (or `gradeloop serve --migrate`) first.")
            upgrade_database()

    class _Gunicorn(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            # Same factory as wsgi.py; imported here so the console script works from any cwd.
            from lti_app import create_app

            return create_app()

    _Gunicorn().run()
