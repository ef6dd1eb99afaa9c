"""Endpoints are the edge of their own domain: only the application's assembly (api/main.py,
api/routers.py) imports another domain's endpoints module. What two domains share on the
wire lives in schemas (``TrackBase.from_track``, ``UserResponse.from_user``, ...)."""

from __future__ import annotations

import ast

from api.config import PROJECT_ROOT

ASSEMBLY = {"api/main.py", "api/routers.py"}


def _imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_module_imports_another_domains_endpoints() -> None:
    offenders = []
    for path in sorted((PROJECT_ROOT / "api").rglob("*.py")):
        relative = path.relative_to(PROJECT_ROOT).as_posix()
        if relative in ASSEMBLY:
            continue
        parts = relative.removesuffix(".py").split("/")
        own = ".".join(parts[:2]) if len(parts) > 2 else None
        for name in _imported(ast.parse(path.read_text(), relative)):
            pieces = name.split(".")
            endpoints = len(pieces) >= 3 and pieces[0] == "api" and pieces[2] == "endpoints"
            if endpoints and ".".join(pieces[:2]) != own:
                offenders.append(f"{relative} imports {name}")
    assert not offenders, "\n".join(offenders)
