"""The deployment files read correctly and name things that exist.

No Docker engine or GitLab runner is needed: the Dockerfile, docker-compose.yml, Procfile and
.gitlab-ci.yml are parsed, and every module, app object, file and service they refer to is
looked up for real (modules are imported, paths are checked in the repository).
"""

from __future__ import annotations

import configparser
import fnmatch
import importlib
import json
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

# The one set of process commands every deployment runs (docs/deployment.md).
WEB = "uvicorn api.main:app --host 0.0.0.0 --port $PORT --proxy-headers --forwarded-allow-ips='*'"
WORKER = "celery -A workers.celery_app worker --loglevel=INFO"
BEAT = "celery -A workers.celery_app beat --loglevel=INFO"
RELEASE = "alembic upgrade head"
PROCESS_COMMANDS = {"web": WEB, "worker": WORKER, "beat": BEAT, "release": RELEASE}


# --- Parsers ----------------------------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str
    args: str


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [i.args for i in self.instructions if i.keyword == keyword]


def parse_dockerfile(text: str) -> list[Stage]:
    """Stages of a Dockerfile, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"

    stages: list[Stage] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        args = args.strip()
        if keyword == "FROM":
            match = re.fullmatch(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", args, re.I)
            assert match, f"cannot read FROM {args!r}"
            stages.append(Stage(base=match[1], name=match[2]))
        else:
            assert stages, f"{keyword} before the first FROM"
            stages[-1].instructions.append(Instruction(keyword, args))
    return stages


def split_copy(args: str) -> tuple[dict[str, str], list[str], str]:
    """COPY/ADD arguments as (flags, sources, destination)."""
    words = json.loads(args) if args.startswith("[") else shlex.split(args)
    flags: dict[str, str] = {}
    while words and words[0].startswith("--"):
        name, _, value = words.pop(0)[2:].partition("=")
        flags[name] = value
    assert len(words) >= 2, f"COPY needs a source and a destination: {args!r}"
    return flags, words[:-1], words[-1]


def dockerfile_env(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for args in stage.all("ENV"):
        for word in shlex.split(args):
            key, sep, value = word.partition("=")
            assert sep, f"use ENV KEY=value, not the legacy form: {args!r}"
            env[key] = value
    return env


def parse_procfile(text: str) -> dict[str, str]:
    processes: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, command = line.partition(":")
        assert sep, f"bad Procfile line {line!r}"
        assert re.fullmatch(r"[a-z][a-z0-9_-]*", name), f"bad process name {name!r}"
        assert name not in processes, f"{name} is defined twice"
        processes[name] = command.strip()
    return processes


def strip_env_prefix(command: str) -> str:
    """`A=1 B=${B:-x} cmd ...` -> `cmd ...`."""
    return re.sub(r"^(?:[A-Z_][A-Z0-9_]*=\S*\s+)+", "", command)


def compose_command(value: str | list[str]) -> str:
    return value if isinstance(value, str) else shlex.join(value)


def referenced_targets(command: str) -> tuple[set[str], set[str]]:
    """`module:attr` app references and `-A module` Celery apps named in a command."""
    apps = set(re.findall(r"(?<![\w/.:-])([a-z_][\w.]*:[A-Za-z_]\w*)(?![\w/])", command))
    celery_apps = set(re.findall(r"(?:-A|--app)[ =]([a-z_][\w.]*)", command))
    return apps, celery_apps


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def is_dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule for plain patterns: the path or one of its parents matches; last wins."""
    parts = PurePosixPath(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for raw in patterns:
        pattern = raw.removeprefix("!").strip("/")
        candidates = [pattern, pattern.removeprefix("**/")]
        if any(fnmatch.fnmatchcase(p, c) for p in prefixes for c in candidates):
            ignored = not raw.startswith("!")
    return ignored


# --- Fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile((ROOT / "Dockerfile").read_text())


@pytest.fixture(scope="module")
def final_stage(stages: list[Stage]) -> Stage:
    return stages[-1]


@pytest.fixture(scope="module")
def procfile() -> dict[str, str]:
    return parse_procfile((ROOT / "Procfile").read_text())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def gitlab() -> dict[str, Any]:
    return yaml.safe_load((ROOT / ".gitlab-ci.yml").read_text())


def all_commands(
    stages: list[Stage], procfile: dict[str, str], compose: dict[str, Any]
) -> list[str]:
    commands = list(procfile.values())
    commands += [cmd for stage in stages for cmd in stage.all("CMD") + stage.all("HEALTHCHECK")]
    for service in compose["services"].values():
        if "command" in service:
            commands.append(compose_command(service["command"]))
    return commands


# --- Every command names things that exist ---------------------------------------------------


def test_every_referenced_app_and_celery_module_imports(
    stages: list[Stage], procfile: dict[str, str], compose: dict[str, Any]
) -> None:
    apps: set[str] = set()
    celery_apps: set[str] = set()
    for command in all_commands(stages, procfile, compose):
        found_apps, found_celery = referenced_targets(command)
        apps |= found_apps
        celery_apps |= found_celery
    assert apps == {"api.main:app"}
    assert celery_apps == {"workers.celery_app"}

    for reference in apps:
        module_name, attr = reference.split(":")
        assert callable(getattr(importlib.import_module(module_name), attr)), reference
    from celery import Celery

    for module_name in celery_apps:
        module = importlib.import_module(module_name)
        # `celery -A module` looks for an attribute named app or celery.
        found = getattr(module, "app", None) or getattr(module, "celery", None)
        assert isinstance(found, Celery), f"{module_name} has no Celery app"


def test_the_programs_the_commands_run_are_installed() -> None:
    scripts = {ep.name for ep in entry_points(group="console_scripts")}
    assert {"uvicorn", "celery", "alembic"} <= scripts


def test_alembic_upgrade_head_finds_its_config_and_migrations() -> None:
    config = configparser.ConfigParser(defaults={"here": str(ROOT)})
    assert config.read(ROOT / "alembic.ini"), "alembic.ini is missing"
    location = config["alembic"]["script_location"]
    assert (Path(location) / "env.py").is_file()
    assert list((Path(location) / "versions").glob("*.py")), "no migrations"


# --- Procfile ---------------------------------------------------------------------------------


def test_procfile_runs_the_process_commands_in_prod(procfile: dict[str, str]) -> None:
    assert set(procfile) == set(PROCESS_COMMANDS)
    for name, command in procfile.items():
        assert strip_env_prefix(command) == PROCESS_COMMANDS[name], name
        # Heroku has no TUNEWAVE_ENV of its own: each process defaults it to prod.
        assert command.startswith("TUNEWAVE_ENV=${TUNEWAVE_ENV:-prod} "), name
    assert "--port $PORT" in procfile["web"]


# --- Dockerfile -------------------------------------------------------------------------------


def test_dockerfile_stages_build_the_spa_then_python_deps_then_a_slim_runtime(
    stages: list[Stage],
) -> None:
    assert stages[0].base.startswith("node:20")
    assert any("npm ci" in run for run in stages[0].all("RUN"))
    assert any(run.endswith("npm run build") for run in stages[0].all("RUN"))
    uv_runs = [run for stage in stages[1:-1] for run in stage.all("RUN")]
    assert any("uv sync --frozen --no-dev" in run for run in uv_runs)
    assert stages[-1].base == "python:3.11-slim"
    names = [stage.name for stage in stages if stage.name]
    assert len(names) == len(set(names)), "stage names repeat"


def test_dockerfile_copy_sources_exist(stages: list[Stage]) -> None:
    patterns = dockerignore_patterns()
    package_json = json.loads((ROOT / "web" / "package.json").read_text())
    vite_config = (ROOT / "web" / "vite.config.ts").read_text()
    for index, stage in enumerate(stages):
        earlier = {s.name: s for s in stages[:index] if s.name}
        for args in stage.all("COPY"):
            flags, sources, _ = split_copy(args)
            source_stage = flags.get("from")
            if source_stage is None:
                for source in sources:
                    assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
                    assert not is_dockerignored(source, patterns), f"{source} is dockerignored"
            elif source_stage in earlier:
                # A build output of an earlier stage: it must live under that stage's WORKDIR.
                workdirs = earlier[source_stage].all("WORKDIR")
                for source in sources:
                    assert any(source.startswith(w.rstrip("/") + "/") for w in workdirs), source
            else:
                # Anything else must be an image reference, not a misspelt stage name.
                assert "/" in source_stage or ":" in source_stage, f"unknown stage {source_stage}"

    web_dist = [
        sources
        for args in stages[-1].all("COPY")
        for flags, sources, _ in [split_copy(args)]
        if flags.get("from") == stages[0].name
    ]
    assert web_dist == [["/app/web/dist"]]
    assert "tsc -b && vite build" in package_json["scripts"]["build"]
    assert re.search(r'outDir:\s*"dist"', vite_config)


def test_dockerfile_runtime_is_non_root_prod_and_serves_the_web_command(
    final_stage: Stage,
) -> None:
    users = final_stage.all("USER")
    assert users, "the final stage runs as root"
    assert users[-1].split(":")[0] not in ("root", "0")

    env = dockerfile_env(final_stage)
    assert env["TUNEWAVE_ENV"] == "prod"
    assert env["PORT"] == "8000"
    assert final_stage.all("EXPOSE") == ["8000"]

    [healthcheck] = final_stage.all("HEALTHCHECK")
    assert "/healthz" in healthcheck
    assert "urllib" in healthcheck, "slim images have no curl; check with Python"
    [cmd] = final_stage.all("CMD")
    assert cmd.removeprefix("exec ") == WEB


def test_dockerignore_keeps_local_state_out() -> None:
    patterns = dockerignore_patterns()
    for path in (".venv", "web/node_modules", "node_modules", ".tunewave", ".git", "web/dist"):
        assert is_dockerignored(path, patterns), path
    for path in ("api", "workers", "migrations", "data", "web/src", "uv.lock", "alembic.ini"):
        assert not is_dockerignored(path, patterns), path


# --- docker-compose.yml -----------------------------------------------------------------------


def test_compose_services_dependencies_and_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "api", "worker", "beat"}
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "ping" in services["redis"]["healthcheck"]["test"]
    assert "/healthz" in " ".join(services["api"]["healthcheck"]["test"])

    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if rule["condition"] == "service_healthy":
                health = services[dependency].get("healthcheck", {})
                assert health.get("test"), f"{dependency} has no healthcheck"
                assert not health.get("disable"), f"{dependency} disables its healthcheck"

    for name in ("api", "worker", "beat"):
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", name
        assert depends_on["postgres"]["condition"] == "service_healthy", name
        assert depends_on["redis"]["condition"] == "service_healthy", name
        assert services[name].get("build") == ".", name
        assert (ROOT / services[name]["build"] / "Dockerfile").is_file()


def test_compose_runs_the_process_commands(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert compose_command(services["migrate"]["command"]) == RELEASE
    assert compose_command(services["worker"]["command"]) == WORKER
    assert compose_command(services["beat"]["command"]) == BEAT
    assert "command" not in services["api"], "api runs the image's CMD, the web command"
    assert services["api"]["environment"]["PORT"] == "8000"
    assert any(port.endswith(":8000") for port in services["api"]["ports"])


def test_compose_settings_come_from_the_environment_with_defaults(
    compose: dict[str, Any],
) -> None:
    for name in ("migrate", "api", "worker", "beat"):
        environment = compose["services"][name]["environment"]
        settings = {
            key: value
            for key, value in environment.items()
            if key.startswith("TUNEWAVE_") or key in ("DATABASE_URL", "REDIS_URL")
        }
        for key, value in settings.items():
            # A value is `${KEY:-default}`, or empty to pass KEY through only when it is set.
            if value is not None:
                assert value.startswith(f"${{{key}:-"), f"{name}.{key} is not ${{{key}:-...}}"
        required = ("TUNEWAVE_ENV", "TUNEWAVE_JWT_SECRET", "TUNEWAVE_TOKEN_ENCRYPTION_KEY")
        for key in (*required, "DATABASE_URL", "REDIS_URL"):
            assert settings[key] is not None, f"{name}.{key} needs a default"
        assert "@postgres:5432/" in environment["DATABASE_URL"]
        assert "redis://redis:6379/" in environment["REDIS_URL"]


# --- .gitlab-ci.yml ---------------------------------------------------------------------------


def gitlab_jobs(gitlab: dict[str, Any]) -> dict[str, dict[str, Any]]:
    reserved = {"stages", "variables", "default", "include", "workflow", "image", "services"}
    return {
        name: job
        for name, job in gitlab.items()
        if name not in reserved and not name.startswith(".") and isinstance(job, dict)
    }


def resolved(gitlab: dict[str, Any], job: dict[str, Any]) -> dict[str, Any]:
    """A job with its `extends` templates merged in (GitLab's deep merge, enough for here)."""
    parents = job.get("extends", [])
    merged: dict[str, Any] = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        assert parent in gitlab, f"extends unknown {parent}"
        merged |= resolved(gitlab, gitlab[parent])
    for key, value in job.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merged[key] | value
        else:
            merged[key] = value
    return merged


def test_gitlab_jobs_use_the_declared_stages(gitlab: dict[str, Any]) -> None:
    assert gitlab["stages"] == ["lint", "test", "build", "deploy"]
    jobs = gitlab_jobs(gitlab)
    assert set(jobs) == {"lint", "test", "build", "deploy"}
    for name, job in jobs.items():
        job = resolved(gitlab, job)
        assert job["stage"] in gitlab["stages"], name
        assert job["script"], name
        for need in job.get("needs", []):
            assert need in jobs, f"{name} needs unknown {need}"


def test_gitlab_lint_and_test_jobs(gitlab: dict[str, Any]) -> None:
    lint = resolved(gitlab, gitlab["lint"])
    assert "uv run ruff check ." in lint["script"]
    assert "uv run ruff format --check ." in lint["script"]
    assert any("web lint" in line for line in lint["script"])

    test = resolved(gitlab, gitlab["test"])
    assert test["image"] == "$PYTHON_IMAGE"
    assert gitlab["variables"]["PYTHON_IMAGE"].startswith("python:3.11")
    assert gitlab["variables"]["NODE_VERSION"].startswith("20.")
    assert "make test" in test["script"]
    services = {service["alias"]: service["name"] for service in test["services"]}
    assert services == {"postgres": "postgres:16", "redis": "redis:7"}
    variables = test["variables"]
    assert "@postgres:5432/" in variables["TUNEWAVE_TEST_DATABASE_URL"]
    assert variables["TUNEWAVE_TEST_REDIS_URL"].startswith("redis://redis:6379/")
    assert variables["TUNEWAVE_TEST_DATABASE_URL"].startswith("postgresql+psycopg://")
    cached = {path for entry in test["cache"] for path in entry["paths"]}
    assert cached == {".cache/uv", ".cache/npm"}
    # The caches sit in the checkout; git-ignored, `ruff check .` skips the sources in them.
    for path in cached:
        ignored = subprocess.run(["git", "check-ignore", "-q", f"{path}/x.py"], cwd=ROOT)
        assert ignored.returncode == 0, f"{path} is not git-ignored"

    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test:", makefile, re.M), "the Makefile has no test target"


def test_gitlab_build_and_deploy_jobs(gitlab: dict[str, Any]) -> None:
    build = resolved(gitlab, gitlab["build"])
    assert build["services"][0]["name"].endswith("-dind")
    script = "\n".join(build["script"])
    assert "docker build" in script
    assert 'docker push "$CI_REGISTRY_IMAGE:' in script

    deploy = resolved(gitlab, gitlab["deploy"])
    assert deploy["rules"] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", "when": "manual"}]
    script = "\n".join(deploy["script"])
    assert "$HEROKU_API_KEY" in script
    assert "registry.heroku.com" in script
    # The per-process images Heroku runs carry the same commands as the Procfile.
    for name in ("worker", "beat", "release"):
        assert f"{name}) command='{json.dumps(shlex.split(PROCESS_COMMANDS[name]))}'" in script
