from __future__ import annotations

import httpx


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
    assert response.json() == {"detail": "Not Found"}
