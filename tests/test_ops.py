from __future__ import annotations

import socket
import ssl
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from api.core.config import get_settings
from api.core.redis import get_redis
from tests.conftest import asgi_client


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_database_and_redis(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    generated = await client.get("/healthz", headers={"X-Request-ID": "bad id\n"})
    assert len(generated.headers["x-request-id"]) == 32


async def test_metrics_count_requests_by_route(client: httpx.AsyncClient) -> None:
    await client.get("/readyz")
    body = (await client.get("/metrics")).text
    assert 'tunewave_http_requests_total{method="GET",route="/readyz",status="200"}' in body


async def test_unknown_path_is_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found", "code": "not_found"}


async def test_readyz_names_the_failing_dependency(make_app: Callable[..., FastAPI]) -> None:
    # A Redis that is not there: a closed port on loopback, in the app's own settings.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    app = make_app(redis_url=f"redis://127.0.0.1:{closed_port}/0")
    try:
        async with asgi_client(app) as client:
            response = await client.get("/readyz")
    finally:
        await app.state.redis.aclose()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("error: ")


def test_api_redis_client_accepts_herokus_self_signed_rediss_urls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDIS_URL", "rediss://:pw@redis.example:6380")
    get_settings.cache_clear()
    try:
        kwargs = get_redis().connection_pool.connection_kwargs
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert kwargs["ssl_cert_reqs"] == ssl.CERT_NONE


async def test_oversized_bodies_are_413_before_parsing(client: httpx.AsyncClient) -> None:
    declared = await client.post("/rooms/", content=b"x" * (300 * 1024))
    assert declared.status_code == 413
    assert "larger than" in declared.json()["detail"]

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(300):
            yield b"y" * 1024

    streamed = await client.post("/rooms/", content=chunks())
    assert streamed.status_code == 413


async def test_bad_content_length_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/rooms/", content=b"{}", headers={"content-length": "not-a-number"}
    )
    assert response.status_code == 400


async def test_metrics_can_require_a_bearer_token(make_app: Callable[..., FastAPI]) -> None:
    token = "metrics-" + "k" * 8 + "Zq81LmV0cGFzc3dvcmQtZm9yLXNjcmFwZXJz"
    async with asgi_client(make_app(metrics_token=SecretStr(token))) as client:
        assert (await client.get("/metrics")).status_code == 401
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert "TUNEWAVE_METRICS_TOKEN" in wrong.json()["detail"]
        right = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert right.status_code == 200
        assert "tunewave_http_requests_total" in right.text
    # Unset (the default): open, as Prometheus inside a private network expects.
    async with asgi_client(make_app()) as client:
        assert (await client.get("/metrics")).status_code == 200
