from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from api.spa import mount_spa

HTML = {"accept": "text/html,application/xhtml+xml"}


@pytest.fixture
async def spa_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>TuneWave</title>")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    (tmp_path / "assets" / "app.js").write_text("console.log(1)")
    app = FastAPI()

    @app.get("/rooms/")
    async def rooms() -> list[str]:
        return []

    mount_spa(app, tmp_path)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://spa") as client:
        yield client


async def test_root_and_client_routes_get_the_app(spa_client: httpx.AsyncClient) -> None:
    assert "TuneWave" in (await spa_client.get("/")).text
    deep = await spa_client.get("/room/123", headers=HTML)
    assert deep.status_code == 200
    assert "TuneWave" in deep.text
    assert deep.headers["cache-control"] == "no-cache"


async def test_api_routes_win_and_unknown_api_calls_stay_json(
    spa_client: httpx.AsyncClient,
) -> None:
    assert (await spa_client.get("/rooms/", headers=HTML)).json() == []
    missing = await spa_client.get("/room/123", headers={"accept": "application/json"})
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found", "code": "not_found"}


async def test_build_files_are_served_whatever_the_request_accepts(
    spa_client: httpx.AsyncClient,
) -> None:
    assert (await spa_client.get("/favicon.svg", headers={"accept": "image/*"})).text == "<svg/>"
    assert (await spa_client.get("/assets/app.js")).text == "console.log(1)"
    assert (await spa_client.get("/assets/missing.js")).status_code == 404


async def test_without_a_build_the_root_explains_itself(tmp_path: Path) -> None:
    app = FastAPI()
    mount_spa(app, tmp_path / "not-built")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://spa") as client:
        response = await client.get("/")
    assert response.status_code == 404
    assert "not built" in response.json()["detail"]
