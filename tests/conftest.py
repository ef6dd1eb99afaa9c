"""Test harness: real PostgreSQL migrated by Alembic and real Redis, both on 127.0.0.1.

Each test runs inside one transaction that is rolled back at the end (the app's commits become
savepoints), and gets Redis database 15 flushed. Nothing of our own stack is faked.
"""

from __future__ import annotations

import os

TEST_DATABASE_URL = os.environ.get(
    "TUNEWAVE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/tunewave_test"
)
TEST_REDIS_URL = os.environ.get("TUNEWAVE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ["TUNEWAVE_ENV"] = "test"
os.environ["DATABASE_URL"] = TEST_DATABASE_URL
os.environ["REDIS_URL"] = TEST_REDIS_URL
os.environ.setdefault("TUNEWAVE_LOG_JSON", "false")
# Room passwords are still argon2id, at a cost that keeps hundreds of joins fast.
os.environ["TUNEWAVE_ARGON2_TIME_COST"] = "1"
os.environ["TUNEWAVE_ARGON2_MEMORY_KIB"] = "1024"

from collections.abc import AsyncIterator, Callable  # noqa: E402

import httpx  # noqa: E402
import pytest  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from redis.asyncio import Redis  # noqa: E402
from sqlalchemy.ext.asyncio import (  # noqa: E402
    AsyncConnection,
    AsyncSession,
    async_sessionmaker,
)

from api.core.config import Environment, Settings, get_settings  # noqa: E402
from api.core.db import get_engine, session_scope  # noqa: E402
from api.core.redis import get_redis  # noqa: E402
from api.deps import get_session  # noqa: E402
from tests.support.database import recreate_database, upgrade_to_head  # noqa: E402

# Signed-in users and their rooms, for every API test.
pytest_plugins = ["tests.support.people"]

# The slow tiers, by module (tests/ path): `make test` runs everything, `make test-quick`
# leaves these out. `processes`: starts API, worker or server processes of its own;
# `browser`: drives Chromium; `notebook`: executes a notebook.
SLOW_TIERS: dict[str, tuple[str, ...]] = {
    "processes": (
        "api/test_openapi_fuzz.py",
        "e2e/",
        "faults/",
        "realtime/test_admission.py",
        "realtime/test_backpressure.py",
        "realtime/test_channel.py",
        "realtime/test_error_codes.py",
        "realtime/test_security_live.py",
        "realtime/test_two_processes.py",
        "test_cli.py",
        "test_embedded.py",
        "test_redis_version.py",
        "web/test_api_client.py",
        "workers/test_heartbeat.py",
        "workers/test_history_import_worker.py",
        "workers/test_training_worker.py",
    ),
    "browser": ("e2e/",),
    "notebook": ("recommender/test_notebook.py",),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests_root = config.rootpath / "tests"
    for item in items:
        where = item.path.relative_to(tests_root).as_posix()
        for marker, prefixes in SLOW_TIERS.items():
            if where.startswith(prefixes):
                item.add_marker(marker)


@pytest.fixture(scope="session", autouse=True)
async def _migrated_database() -> AsyncIterator[None]:
    await recreate_database(TEST_DATABASE_URL)
    await upgrade_to_head(TEST_DATABASE_URL)
    yield
    await get_engine().dispose()


@pytest.fixture
async def db_connection() -> AsyncIterator[AsyncConnection]:
    async with get_engine().connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
def sessionmaker(db_connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    # Commits inside the app release a savepoint; the outer transaction is rolled back.
    return async_sessionmaker(
        bind=db_connection,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = get_redis()
    await client.flushdb()
    yield client
    await client.flushdb()


@pytest.fixture
def settings() -> Settings:
    return get_settings()


@pytest.fixture
def make_app(
    sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> Callable[..., FastAPI]:
    """Build an app with its own settings, bound to the test's transaction."""
    from api.main import create_app

    def factory(**overrides: object) -> FastAPI:
        app = create_app(get_settings().model_copy(update=overrides))

        async def test_session() -> AsyncIterator[AsyncSession]:
            async with session_scope(sessionmaker) as session:
                yield session

        app.dependency_overrides[get_session] = test_session
        return app

    return factory


@pytest.fixture
def app(make_app: Callable[..., FastAPI]) -> FastAPI:
    return make_app()


@pytest.fixture
def dev_app(make_app: Callable[..., FastAPI]) -> FastAPI:
    return make_app(env=Environment.dev)


def asgi_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver", timeout=30
    )


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as client:
        yield client


@pytest.fixture
async def dev_client(dev_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(dev_app) as client:
        yield client
