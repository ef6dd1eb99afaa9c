"""The unit of work: work registered with after_commit runs only once the commit succeeded."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.core.db import after_commit, session_scope


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
