"""Live-channel tests: real uvicorn processes on a committed scratch database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Literal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from api.core.config import Settings
from api.realtime.schemas import ServerFrameModel
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL
from tests.support.database import drop_database, recreate_database, upgrade_to_head
from tests.support.live import ApiProcess, LiveData, spawn_api, start_api
from tests.support.processes import tunewave_env

LIVE_DATABASE_URL = f"{TEST_DATABASE_URL}_live"
# Short, so a killed process's users are reported gone within a couple of seconds.
PRESENCE_TTL_S = "1.5"
# A killed process's users are announced as left once it stopped heart-beating this long.
PRESENCE_PROCESS_GRACE_S = "3"
ALLOWED_ORIGIN = "https://app.tunewave.test"


class NoteFrame(ServerFrameModel):
    """Filler traffic the tests publish into a room (no real frame is this big)."""

    type: Literal["note"] = "note"
    n: int
    pad: str


@pytest.fixture(scope="session")
async def live_database() -> AsyncIterator[AsyncEngine]:
    await recreate_database(LIVE_DATABASE_URL)
    await upgrade_to_head(LIVE_DATABASE_URL)
    engine = create_async_engine(LIVE_DATABASE_URL)
    yield engine
    await engine.dispose()
    await drop_database(LIVE_DATABASE_URL)


def api_env(**overrides: str) -> dict[str, str]:
    return tunewave_env(
        DATABASE_URL=LIVE_DATABASE_URL,
        REDIS_URL=TEST_REDIS_URL,
        TUNEWAVE_ENV="test",
        TUNEWAVE_WS_PRESENCE_TTL_S=PRESENCE_TTL_S,
        TUNEWAVE_WS_PRESENCE_PROCESS_GRACE_S=PRESENCE_PROCESS_GRACE_S,
        TUNEWAVE_WS_ALLOWED_ORIGINS=ALLOWED_ORIGIN,
        **overrides,
    )


StartApis = Callable[..., list[ApiProcess]]


@pytest.fixture
def start_live_apis(live_database: AsyncEngine, tmp_path: Path) -> Iterator[StartApis]:
    """Start ``count`` API processes side by side (settings as env overrides), ready when
    returned; all stopped after the test."""
    started: list[ApiProcess] = []

    def factory(count: int = 1, **overrides: str) -> list[ApiProcess]:
        apis = [
            spawn_api(api_env(**overrides), tmp_path / f"api-{len(started) + n}.log")
            for n in range(count)
        ]
        started.extend(apis)
        for api in apis:
            api.wait_ready()
        return apis

    yield factory
    for api in started:
        api.stop()


@pytest.fixture(scope="session")
def shared_api(
    live_database: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiProcess]:
    """One API process for the tests that need no process of their own."""
    api = start_api(api_env(), tmp_path_factory.mktemp("live") / "api.log")
    yield api
    api.stop()


@pytest.fixture(scope="module")
def api_pair(
    live_database: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[ApiProcess]]:
    """Two API processes shared by a module's tests that stop neither of them."""
    folder = tmp_path_factory.mktemp("pair")
    apis = [spawn_api(api_env(), folder / f"api-{n}.log") for n in range(2)]
    for api in apis:
        api.wait_ready()
    yield apis
    for api in apis:
        api.stop()


@pytest.fixture
def live(live_database: AsyncEngine, settings: Settings) -> LiveData:
    return LiveData(live_database, settings)
