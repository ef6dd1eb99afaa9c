"""The unit of work: work registered with after_commit runs only once the commit succeeded."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.core import db as db_module
from api.core.config import Settings
from api.core.db import (
    after_commit,
    engine_for,
    in_autocommit,
    session_scope,
    sessionmaker_for,
    use_autocommit,
)
from tests.support.workers import until


async def test_after_commit_runs_once_the_transaction_committed(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    ran: list[str] = []

    async def publish() -> None:
        ran.append("async")

    async with session_scope(sessionmaker) as session:
        await session.execute(text("SELECT 1"))
        after_commit(session, publish)
        after_commit(session, lambda: ran.append("sync"))
        assert ran == []
    assert ran == ["async", "sync"]


async def test_after_commit_never_runs_when_the_work_rolls_back(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    ran: list[str] = []

    async def failing_unit_of_work() -> None:
        async with session_scope(sessionmaker) as session:
            after_commit(session, lambda: ran.append("published"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await failing_unit_of_work()
    assert ran == []


async def test_a_pooled_connection_the_server_closed_is_replaced_without_a_ping(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An engine of its own (the pool size is part of the engine's key).
    engine = engine_for(settings.model_copy(update={"db_pool_size": 2, "db_max_overflow": 0}))
    dialect = engine.sync_engine.dialect
    pings: list[object] = []
    real_ping = dialect.do_ping

    def counting_ping(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        return real_ping(dbapi_connection)  # type: ignore[arg-type]

    monkeypatch.setattr(dialect, "do_ping", counting_ping)

    async def backend_pid() -> int:
        async with engine.connect() as connection:
            return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())

    try:
        first = await backend_pid()
        # Reused at once: no round trip to check it.
        assert await backend_pid() == first
        assert pings == []
        # The server ends that backend (a restart, an administrator): the next checkout sees
        # the close it was sent and gets a new connection instead of an error.
        dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as other:
            await other.execute("SELECT pg_terminate_backend(%s)", [first])
            # pg_terminate_backend only signals: wait until the backend is gone (its close
            # has then been sent), as after a restart, where the server has long gone.
            await until(lambda: _backend_gone(other, first), 10, "the terminated backend to exit")
        second = await backend_pid()
        assert second != first
        assert pings == []
        # Idle past the threshold: pinged once before use.
        monkeypatch.setattr(db_module, "PING_AFTER_IDLE_S", 0.0)
        assert await backend_pid() == second
        assert len(pings) == 1
    finally:
        await engine.dispose()


async def test_a_session_in_autocommit_runs_each_statement_as_its_own_transaction(
    settings: Settings,
) -> None:
    maker = sessionmaker_for(settings)

    async def two_transaction_ids(autocommit: bool) -> tuple[int, int]:
        async with session_scope(maker) as session:
            if autocommit:
                await use_autocommit(session)
            assert in_autocommit(session) is autocommit
            ids = [
                int((await session.execute(text("SELECT txid_current()"))).scalar_one())
                for _ in range(2)
            ]
        return ids[0], ids[1]

    first, second = await two_transaction_ids(autocommit=True)
    assert first != second
    first, second = await two_transaction_ids(autocommit=False)
    assert first == second


async def _backend_gone(connection: psycopg.AsyncConnection[Any], pid: int) -> bool:
    cursor = await connection.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
    return await cursor.fetchone() is None
