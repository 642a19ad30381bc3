"""docker-compose.yml and the Dockerfile (docker itself cannot run here): the YAML parses, every
service the operations guide relies on is there with a healthcheck, the gradeloop services run
commands the CLI really has, share one data volume, and the GPU worker reserves a GPU and only
consumes the training queue.

Compose substitutes `${VAR:-default}` and friends from the shell and `.env` before it starts
anything, so the file is checked as compose would render it (`_render`, a small implementation of
the Compose Specification's interpolation), under the environments docs/operations.md describes:
one CPU host, a GPU host (`--profile gpu`) and a worker on a second machine."""
from __future__ import annotations

import re

import pytest
import yaml

from lti_app.cli import main
from tests.conftest import ROOT
from worker.topology import WORK_QUEUES

APP_SERVICES = ("migrate", "web", "worker", "gpu-worker")
REQUIRED = {"GRADELOOP_SECRET_KEY": "x" * 64, "GRADELOOP_PUBLIC_URL": "https://gradeloop.school.edu",
            "POSTGRES_PASSWORD": "0a1b" * 12, "RABBITMQ_PASSWORD": "2c3d" * 12}
PASSWORDS = ("POSTGRES_PASSWORD", "RABBITMQ_PASSWORD")
_NAME = r"[_a-zA-Z][_a-zA-Z0-9]*"


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


class MissingVariable(Exception):
    pass


def _interpolate(text: str, env: dict) -> str:
    """Compose interpolation: $$, $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?e}, ${VAR?e},
    ${VAR:+r}, ${VAR+r}, nested in the default. Anything else is an error here (compose would
    reject it or treat it differently, so the file should not use it). Like compose (compose-go's
    template.go), the default and the message are expanded before the variable is looked at: a
    `${A:-${B:?e}}` needs B even when A is set."""
    out, i = [], 0
    while i < len(text):
        if text[i] != "$":
            out.append(text[i])
            i += 1
        elif text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            depth, j = 1, i + 2
            while depth:
                if j >= len(text):
                    raise ValueError(f"unclosed ${{ in {text!r}")
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            out.append(_expand(text[i + 2:j - 1], env))
            i = j
        elif match := re.match(_NAME, text[i + 1:]):
            out.append(env.get(match.group(), ""))
            i += 1 + match.end()
        else:
            out.append("$")
            i += 1
    return "".join(out)


def _expand(body: str, env: dict) -> str:
    match = re.fullmatch(rf"({_NAME})(?:(:?[-?+])(.*))?", body, re.S)
    if not match:
        raise ValueError(f"unsupported interpolation ${{{body}}}")
    name, op, arg = match.groups()
    value = env.get(name)
    if op is None:
        return value or ""
    is_set = value is not None and (value != "" or not op.startswith(":"))
    arg = _interpolate(arg, env)
    if op[-1] == "-":
        return value if is_set else arg
    if op[-1] == "?":
        if not is_set:
            raise MissingVariable(f"{name}: {arg}")
        return value
    return arg if is_set else ""


def _render(env: dict | None = None, profiles=()) -> dict:
    """The services compose would start with `env` (shell + .env) and these `--profile`s."""
    env = {**REQUIRED, **(env or {})}

    def walk(node):
        if isinstance(node, dict):
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value) for value in node]
        return _interpolate(node, env) if isinstance(node, str) else node

    services = walk(_compose())["services"]
    return {name: svc for name, svc in services.items()
            if not svc.get("profiles") or set(svc["profiles"]) & set(profiles)}


def _queues(service: dict) -> list[str]:
    command = service["command"]
    return command[command.index("--queues") + 1].split(",")


def test_interpolation_helper_follows_the_spec():
    env = {"SET": "v", "EMPTY": ""}
    assert _interpolate("${SET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d} $$SET $SET", env) == "v d  d $SET v"
    assert _interpolate("${UNSET:-a${SET}b} ${UNSET:-${NOPE:-deep}}", env) == "avb deep"
    assert _interpolate("${SET:+r}${EMPTY:+r}${EMPTY+r}", env) == "rr"
    with pytest.raises(MissingVariable, match="UNSET: say so"):
        _interpolate("${UNSET:?say so}", env)
    with pytest.raises(MissingVariable, match="UNSET: inner"):
        _interpolate("${SET:-${UNSET:?inner}}", env)


def test_compose_services_and_healthchecks():
    raw = _compose()["services"]
    for name in APP_SERVICES:
        # No default an LMS cannot reach: compose refuses to start until the deployer sets both.
        for required in ("GRADELOOP_SECRET_KEY", "GRADELOOP_PUBLIC_URL"):
            assert raw[name]["environment"][required].startswith("${" + required + ":?"), (name, required)
            with pytest.raises(MissingVariable, match=required):
                _render({required: ""}, profiles=["gpu"])
    services = _render(profiles=["gpu"])
    assert {"postgres", "rabbitmq", *APP_SERVICES} <= set(services)
    for name in ("postgres", "rabbitmq", "web", "worker", "gpu-worker"):
        assert services[name]["healthcheck"]["test"], name
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert {"GRADELOOP_DATABASE_URL", "GRADELOOP_BROKER_URL", "GRADELOOP_SECRET_KEY",
                "GRADELOOP_DATA_DIR"} <= set(env), name
        assert env["GRADELOOP_SECRET_KEY"] == REQUIRED["GRADELOOP_SECRET_KEY"]
        # On one host the defaults reach this file's own servers.
        assert env["GRADELOOP_BROKER_URL"] == f"amqp://gradeloop:{REQUIRED['RABBITMQ_PASSWORD']}@rabbitmq:5672//"
        assert env["GRADELOOP_DATABASE_URL"] == \
            f"postgresql+psycopg://gradeloop:{REQUIRED['POSTGRES_PASSWORD']}@postgres:5432/gradeloop", \
            "the image has psycopg 3"
        assert env["GRADELOOP_DATA_DIR"] == "/data"
        assert f"gradeloop-data:{env['GRADELOOP_DATA_DIR']}" in services[name]["volumes"], name
        # Every other documented setting reaches the containers through an optional .env
        # (`required` needs Docker Compose >= 2.24; a missing file is not an error).
        assert {"path": ".env", "required": False} in services[name]["env_file"], name


def test_passwords_reach_the_default_urls():
    env = _render({"POSTGRES_PASSWORD": "pg-secret", "RABBITMQ_PASSWORD": "mq-secret"})["worker"]["environment"]
    assert env["GRADELOOP_DATABASE_URL"] == "postgresql+psycopg://gradeloop:pg-secret@postgres:5432/gradeloop"
    assert env["GRADELOOP_BROKER_URL"] == "amqp://gradeloop:mq-secret@rabbitmq:5672//"


def test_passwords_are_required_everywhere():
    """They defaulted to "gradeloop": a deployment that forgot them ran with a guessable database
    and broker password. Compose now refuses to start without them, naming each and how to make one."""
    text = (ROOT / "docker-compose.yml").read_text()
    for name in PASSWORDS:
        uses = re.findall(r"\$\{" + name + r"([^}]*)\}", text)
        assert len(uses) == 2 and all(use == ":?set " + name + " (openssl rand -hex 24)" for use in uses), uses
        for elsewhere in ({}, {"GRADELOOP_DATABASE_URL": "postgresql+psycopg://u:p@10.0.0.5/g",
                               "GRADELOOP_BROKER_URL": "amqp://u:p@10.0.0.5:5672//"}):
            with pytest.raises(MissingVariable, match=f"{name}: set {name}"):
                _render({name: "", **elsewhere}, profiles=["gpu"])


def _seconds(duration: str) -> int:
    """A compose duration ("30s", "10m", "1m30s") in seconds."""
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert parts and duration, duration
    hours, minutes, seconds = (int(p or 0) for p in parts.groups())
    return 3600 * hours + 60 * minutes + seconds


def test_web_publishes_on_loopback_stops_gracefully_and_does_not_wait_for_rabbitmq():
    from lti_app.serving import gunicorn_options

    web = _render()["web"]
    assert web["ports"] == ["127.0.0.1:8000:8000"], "the reverse proxy on this host, not the world"
    # Docker's default 10 s killed requests that gunicorn's graceful timeout would let finish.
    assert _seconds(web["stop_grace_period"]) >= gunicorn_options("0.0.0.0", 8000)["graceful_timeout"] + 5
    # It only writes the outbox table: a broker outage must not keep it from starting.
    assert set(web["depends_on"]) == {"postgres", "migrate"}


def test_workers_get_their_shutdown_grace_before_sigkill():
    for name, worker in _render(profiles=["gpu"]).items():
        if name not in ("worker", "gpu-worker"):
            continue
        grace = float(worker["environment"]["GRADELOOP_SHUTDOWN_GRACE_SECONDS"])
        # worker/runner.py: after the jobs' grace it waits up to 10 s for the scheduler, releases
        # the unfinished jobs' leases, then up to 5 s for the heartbeat thread.
        assert _seconds(worker["stop_grace_period"]) > grace + 15, name


def test_a_worker_on_a_second_machine():
    """docs/operations.md: `docker compose up -d --no-deps worker` with the first machine's servers
    and the shared data dir; the URLs were hard-coded to @postgres / @rabbitmq before."""
    elsewhere = {"GRADELOOP_DATABASE_URL": "postgresql+psycopg://gradeloop:pw@10.0.0.5:5432/gradeloop",
                 "GRADELOOP_BROKER_URL": "amqp://gradeloop:pw@10.0.0.5:5672//",
                 "GRADELOOP_DATA_VOLUME": "/mnt/gradeloop"}
    services = _render(elsewhere, profiles=["gpu"])
    for name in ("worker", "gpu-worker"):
        env = services[name]["environment"]
        assert env["GRADELOOP_DATABASE_URL"] == elsewhere["GRADELOOP_DATABASE_URL"], name
        assert env["GRADELOOP_BROKER_URL"] == elsewhere["GRADELOOP_BROKER_URL"], name
        # A bind mount of the shared directory, at the same /data path as on the first machine:
        # model versions are stored by absolute path.
        assert services[name]["volumes"] == ["/mnt/gradeloop:/data"] and env["GRADELOOP_DATA_DIR"] == "/data"


def test_compose_commands_exist_and_queues_are_real():
    services = _render(profiles=["gpu"])
    commands = set(main.commands)
    for name in APP_SERVICES:
        assert services[name]["command"][0] in commands, name
    for name in ("worker", "gpu-worker"):
        assert set(_queues(services[name])) <= set(WORK_QUEUES), name
        int(services[name]["command"][services[name]["command"].index("--concurrency") + 1])
        health = services[name]["healthcheck"]["test"]
        assert health[1:3] == ["gradeloop", "worker-status"] and health[2] in commands
    gpu = services["gpu-worker"]
    assert _queues(gpu) == ["training"]
    (device,) = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]


def test_a_host_without_a_gpu_starts_and_trains():
    """Plain `docker compose up -d --build`: gpu-worker (whose GPU reservation fails without the
    NVIDIA runtime) is not started, and the CPU worker consumes every queue, training included."""
    raw = _compose()["services"]
    assert raw["gpu-worker"]["profiles"] == ["gpu"]
    services = _render()
    assert "gpu-worker" not in services
    for name, svc in services.items():
        assert "gpu-worker" not in (svc.get("depends_on") or {}), name
    assert set(_queues(services["worker"])) == set(WORK_QUEUES), "every queue has a consumer"


def test_a_gpu_host_trains_on_the_gpu_only():
    """`GRADELOOP_WORKER_QUEUES=scoring,gradebook docker compose --profile gpu up -d`."""
    services = _render({"GRADELOOP_WORKER_QUEUES": "scoring,gradebook"}, profiles=["gpu"])
    cpu, gpu = set(_queues(services["worker"])), set(_queues(services["gpu-worker"]))
    assert cpu | gpu == set(WORK_QUEUES), "every queue has a consumer"
    assert not cpu & gpu, "training waits for the GPU"


def test_cpu_worker_scoring_threads_follow_its_concurrency():
    # docs/operations.md: --concurrency 4 jobs each with one onnxruntime thread, so four jobs do
    # not fight over the same cores.
    worker = _render()["worker"]
    assert worker["command"][worker["command"].index("--concurrency") + 1] == "4"
    assert worker["environment"]["GRADELOOP_SCORER_THREADS"] == "1"
    worker = _render({"GRADELOOP_WORKER_CONCURRENCY": "8", "GRADELOOP_SCORER_THREADS": "2"})["worker"]
    assert worker["command"][-2:] == ["--concurrency", "8"]
    assert worker["environment"]["GRADELOOP_SCORER_THREADS"] == "2"


def test_dockerfile_builds_what_compose_uses():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu" in dockerfile
    gpu_args = _compose()["services"]["gpu-worker"]["build"]["args"]
    assert set(gpu_args) <= {line.split()[1].split("=")[0] for line in dockerfile.splitlines()
                             if line.startswith("ARG ")}
    copied = {src for line in dockerfile.splitlines() if line.startswith("COPY ") for src in line.split()[1:-1]}
    for path in ("pyproject.toml", "wsgi.py", "config", "lti_app", "worker", "migrations"):
        assert path in copied and (ROOT / path).exists(), path
    assert "PYTHONPATH=/app" in dockerfile, "gunicorn imports wsgi.py from the work dir"
    assert 'ENTRYPOINT ["gradeloop"]' in dockerfile
