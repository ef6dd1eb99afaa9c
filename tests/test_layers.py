"""Import rules between the API's packages (issue 13), read from the source with ``ast``.

- ``api/realtime`` (the live channel's transport: hub, presence, pub/sub, frame encoding and
  parsing) is a leaf: it imports no domain package and nothing that pulls the domains in.
  The domains build their frames on its ``schemas.py``; ``api/live`` (the WebSocket
  endpoint, the frame unions, the hub's view of the rooms) joins the two.
- ``api/core`` (settings, database, Redis, caches, limits, errors: the infrastructure) imports
  nothing else of the project: the domains stand on it, never the other way round.
- ``recommender`` is pure (no ``api``, ``workers`` or ``tunewave``); nothing in ``api``,
  ``workers`` or ``recommender`` imports the ``tunewave`` launcher, which sits on top.
- The request and live edges (REST endpoints and dependencies, the WebSocket handler, the
  hub, readiness) take settings, sessions and Redis from the app (``app.state``, set from
  one ``Settings`` by ``create_app``), never from the process-wide getters that workers and
  the CLI use.
- No module imports another domain's ``endpoints.py`` (only the application's assembly,
  ``api/main.py`` and ``api/routers.py``, gathers the routers): what two edges share on the
  wire lives in schemas (``TrackBase.from_track``, ``UserResponse.from_user``, ...).
"""

from __future__ import annotations

import ast
from pathlib import Path

from api.core.config import PROJECT_ROOT

API = PROJECT_ROOT / "api"
# Packages below api/ that are not domains: the infrastructure and the live transport.
NOT_DOMAINS = {"core", "realtime"}
# Packages, namespace ones included (api/queue has no __init__.py).
PACKAGES = {path.parent.name for path in API.glob("*/*.py")}
PROJECT_PACKAGES = ("api", "workers", "recommender", "tunewave")
# Top-level modules that import the domains (application assembly, request dependencies).
ASSEMBLY = {"api.main", "api.routers", "api.deps", "tunewave.cli", "api.cached_reads"}

# Nothing in api/realtime imports a domain; an entry here is (file, module) with its reason.
REALTIME_EXCEPTIONS: set[tuple[str, str]] = set()

# The modules that gather every domain's router.
ROUTER_ASSEMBLY = {"api/main.py", "api/routers.py"}


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in it (TYPE_CHECKING blocks and functions
    included); ``from package import module`` counts as the module."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def relative(path: Path) -> str:
    return path.relative_to(PROJECT_ROOT).as_posix()


def reaches_domains(module: str) -> bool:
    parts = module.split(".")
    if parts[0] != "api" or len(parts) < 2:
        return False
    if parts[1] in PACKAGES:
        return parts[1] not in NOT_DOMAINS
    return ".".join(parts[:2]) in ASSEMBLY


def test_realtime_imports_no_domain_code() -> None:
    found = {
        (relative(path), module)
        for path in sorted((API / "realtime").rglob("*.py"))
        for module in imported_modules(path)
        if reaches_domains(module)
    }
    assert found - REALTIME_EXCEPTIONS == set(), (
        "api/realtime must stay a leaf: reach the domains through api/live instead"
    )
    assert REALTIME_EXCEPTIONS - found == set(), "stale exception: remove it from the list"


def project_imports(folder: Path) -> set[tuple[str, str]]:
    """(file, module) for every import of a project package by the files under ``folder``."""
    return {
        (relative(path), module)
        for path in sorted(folder.rglob("*.py"))
        for module in imported_modules(path)
        if module.split(".")[0] in PROJECT_PACKAGES
    }


def test_core_imports_only_core() -> None:
    found = {
        (path, module)
        for path, module in project_imports(API / "core")
        if not (module == "api.core" or module.startswith("api.core."))
    }
    assert found == set(), "api/core is the bottom layer: it imports no domain, worker or launcher"


def test_recommender_is_pure_and_nothing_imports_the_launcher() -> None:
    found = {
        (path, module)
        for package in ("api", "workers", "recommender")
        for path, module in project_imports(PROJECT_ROOT / package)
        if module.split(".")[0] == "tunewave"
        or (package == "recommender" and module.split(".")[0] != "recommender")
    }
    assert found == set(), (
        "the recommender imports only itself; only the launcher (tunewave/) imports tunewave"
    )


def test_no_module_imports_another_domains_endpoints() -> None:
    found = set()
    for path in sorted(API.rglob("*.py")):
        if relative(path) in ROUTER_ASSEMBLY:
            continue
        parts = relative(path).removesuffix(".py").split("/")
        own = ".".join(parts[:2]) if len(parts) > 2 else None
        for module in imported_modules(path):
            pieces = module.split(".")
            endpoints = len(pieces) >= 3 and pieces[0] == "api" and pieces[2] == "endpoints"
            if endpoints and ".".join(pieces[:2]) != own:
                found.add((relative(path), module))
    assert found == set(), (
        "a module imports another domain's endpoints: move what they share into a "
        "schemas.py (from_* constructors) or a service"
    )


# The process-wide getters (api/core): for workers, the CLI and tests, not for request edges.
PROCESS_GETTERS = {"get_settings", "get_redis", "get_engine", "get_sessionmaker"}
# (file, name) allowed with the reason.
GETTER_EXCEPTIONS = {
    # create_app() with no argument reads the environment: that is where the one source is.
    ("api/main.py", "get_settings"),
    # publish_after_commit() runs from services' units of work, which carry no app: the
    # process's client, from the same environment, when the caller passes none.
    ("api/realtime/events.py", "get_redis"),
}


def edge_modules() -> list[Path]:
    edges = [API / "deps.py", API / "main.py", API / "cached_reads.py"]
    edges += [*(API / "live").rglob("*.py"), *(API / "realtime").rglob("*.py")]
    edges += [path for path in API.glob("*/endpoints.py")]
    return sorted(set(edges))


def process_resource_calls(path: Path) -> set[str]:
    """Names of the process-wide getters ``path`` calls, and ``session_scope()`` called
    without the app's sessionmaker."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name in PROCESS_GETTERS:
            found.add(name)
        elif name == "session_scope" and not node.args and not node.keywords:
            found.add("session_scope()")
    return found


def test_request_and_live_edges_use_the_apps_resources() -> None:
    found = {
        (relative(path), name) for path in edge_modules() for name in process_resource_calls(path)
    } - GETTER_EXCEPTIONS
    assert found == set(), (
        "an endpoint, the WebSocket handler or the hub reaches a process-wide resource: take "
        "settings, the sessionmaker and Redis from app.state (api/deps.py, api/live/endpoints.py"
        " Live.of)"
    )


def test_the_rules_see_what_they_forbid(tmp_path: Path) -> None:
    """The checks above would notice a violation (they do not pass by reading nothing)."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "from api.chat import service\n"
        "if TYPE_CHECKING:\n"
        "    from api.rooms.endpoints import router\n"
        "def later():\n"
        "    import api.main\n"
    )
    modules = imported_modules(sample)
    assert {"api.chat.service", "api.rooms.endpoints", "api.main"} <= modules
    assert all(reaches_domains(m) for m in ("api.chat.service", "api.live.wire", "api.main"))
    assert not any(
        reaches_domains(m) for m in ("api.realtime.hub", "api.core.redis", "api.core.db")
    )
    assert {"queue", "live", "chat", "core"} <= PACKAGES
    assert len(project_imports(API / "core")) > 10  # core imports itself: the walk reads files
    assert len(list((API / "realtime").rglob("*.py"))) > 5
    sample.write_text(
        "async def f():\n"
        "    async with session_scope() as s:\n"
        "        await get_redis().ping()\n"
        "    async with session_scope(maker) as s:\n"
        "        pass\n"
    )
    assert process_resource_calls(sample) == {"session_scope()", "get_redis"}
    assert len(edge_modules()) > 15
