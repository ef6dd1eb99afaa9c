"""Security headers on every response type (issue 12, item 6)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from api.core.config import Settings
from api.main import TuneWaveApp
from api.spa import mount_spa
from tests.conftest import asgi_client

COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def directives(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_common(response: httpx.Response) -> None:
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    assert directives(response)["frame-ancestors"] == ["'none'"]


async def test_api_json_errors_and_docs_carry_the_headers(client: httpx.AsyncClient) -> None:
    for path, status in (("/healthz", 200), ("/rooms/", 200), ("/nowhere", 404)):
        response = await client.get(path, headers={"accept": "application/json"})
        assert response.status_code == status
        assert_common(response)
        assert directives(response)["default-src"] == ["'none'"]
    invalid = await client.post("/rooms/", json={})
    assert invalid.status_code == 401
    assert_common(invalid)
    openapi = await client.get("/openapi.json")
    assert_common(openapi)
    # Swagger UI comes from jsDelivr with an inline script: its own policy, on /docs only.
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert_common(docs)
    assert "https://cdn.jsdelivr.net" in directives(docs)["script-src"]
    redoc = await client.get("/redoc")
    assert "https://cdn.jsdelivr.net" in directives(redoc)["script-src"]


@pytest.fixture
def spa_app(tmp_path: Path, settings: Settings) -> FastAPI:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>TuneWave</title>")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    (tmp_path / "assets" / "app.js").write_text("console.log(1)")
    app = TuneWaveApp()
    app.state.settings = settings.model_copy(update={"frontend_url": "https://tunewave.example"})

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("unexpected")

    mount_spa(app, tmp_path)
    return app


async def test_the_spa_gets_a_strict_policy_and_assets_and_500s_the_headers(
    spa_app: FastAPI,
) -> None:
    transport = httpx.ASGITransport(app=spa_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://spa") as client:
        for path in ("/", "/room/123"):
            page = await client.get(path, headers={"accept": "text/html"})
            assert page.status_code == 200
            assert_common(page)
            policy = directives(page)
            assert policy["script-src"] == ["'self'", "https://sdk.scdn.co"]
            assert "'unsafe-inline'" not in page.headers["content-security-policy"]
            assert "https://i.scdn.co" in policy["img-src"]
            assert "'self'" in policy["img-src"]
            assert "wss://tunewave.example" in policy["connect-src"]
            assert "'self'" in policy["connect-src"]
            assert policy["frame-src"] == ["https://sdk.scdn.co"]
            assert policy["object-src"] == ["'none'"]
        for path in ("/assets/app.js", "/favicon.svg"):
            asset = await client.get(path)
            assert asset.status_code == 200
            assert_common(asset)
        crashed = await client.get("/boom")
        assert crashed.status_code == 500
        assert_common(crashed)


async def test_hsts_only_over_https(make_app: Callable[..., FastAPI]) -> None:
    async with asgi_client(make_app(public_api_url="https://api.tunewave.example")) as client:
        response = await client.get("/healthz")
        assert response.headers["strict-transport-security"].startswith("max-age=")
    async with asgi_client(make_app()) as client:
        assert "strict-transport-security" not in (await client.get("/healthz")).headers
