"""Every declared runtime dependency is used: a package in pyproject's
``[project].dependencies`` that no module of api/, workers/ or recommender/ imports is dead
weight in every install (spotipy was, next to the async httpx client the API uses)."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import packages_distributions

from api.core.config import PROJECT_ROOT

PACKAGES = ("api", "workers", "recommender", "tunewave")

# Used without an import statement in our code, each for the reason given.
NOT_IMPORTED = {
    # Launched as a command (`python -m uvicorn`, tunewave/cli.py and the Procfile); the
    # [standard] extra brings its uvloop/httptools/websockets implementations.
    "uvicorn",
    # pydantic's validator for EmailStr fields. No field uses EmailStr today (declared since
    # the project skeleton): a candidate for `uv remove`, left to a change of its own.
    "email-validator",
}


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> list[str]:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    names = []
    for requirement in project["dependencies"]:
        found = re.match(r"[A-Za-z0-9._-]+", requirement)
        assert found is not None, requirement
        names.append(_normalized(found.group()))
    return names


def _imported_modules() -> set[str]:
    """The top-level names our packages import (absolute imports, anywhere in a module)."""
    modules: set[str] = set()
    for package in PACKAGES:
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    modules.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    return modules


def _import_names() -> dict[str, set[str]]:
    """Distribution name -> the top-level modules it installs."""
    names: dict[str, set[str]] = {}
    for module, distributions in packages_distributions().items():
        for distribution in distributions:
            names.setdefault(_normalized(distribution), set()).add(module)
    return names


def test_every_declared_runtime_dependency_is_imported() -> None:
    declared = _declared()
    import_names = _import_names()
    imported = _imported_modules()

    not_installed = [name for name in declared if name not in import_names]
    assert not not_installed, f"declared but not installed (run uv sync): {not_installed}"
    unused = [
        name for name in declared if name not in NOT_IMPORTED and not import_names[name] & imported
    ]
    assert not unused, (
        f"declared in pyproject.toml but imported nowhere in {', '.join(PACKAGES)}: {unused} "
        "(drop them with `uv remove`, or list them in NOT_IMPORTED with the reason)"
    )


def test_the_exceptions_are_still_declared() -> None:
    """An exception for a dependency that was dropped would hide nothing but mislead."""
    assert set(_declared()) >= NOT_IMPORTED
