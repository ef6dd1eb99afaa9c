"""The async engine and the request's unit of work.

A request gets one session. It commits once when the endpoint returns and rolls back
everything when anything raises; services never commit. Work that must only happen after a
commit (Celery tasks, live events) is registered with ``after_commit`` and runs only when the
commit succeeded.
"""

from __future__ import annotations

import logging
import select
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from api.core.config import Settings, get_settings

DEFAULT_AUTOCOMMIT_POOL_SIZE = 4
# A pooled connection idle for longer than this is pinged (a round trip) before use; one used
# more recently is only checked for a close the server already sent (see _watch_liveness).
PING_AFTER_IDLE_S = 10.0

AfterCommit = Callable[[], Awaitable[None] | None]

logger = logging.getLogger(__name__)


_engines: dict[tuple[str, int, int], AsyncEngine] = {}
_sessionmakers: dict[AsyncEngine, async_sessionmaker[AsyncSession]] = {}
_autocommit_engines: dict[str, AsyncEngine] = {}
# Autocommit pool size per database URL, from the settings that created its engine.
_autocommit_pool_sizes: dict[str, int] = {}


def _url_key(engine: AsyncEngine) -> str:
    return engine.url.render_as_string(hide_password=False)


def engine_for(settings: Settings) -> AsyncEngine:
    """The engine (one pool per process) for ``settings``: the app keeps it on
    ``app.state`` (api/main.py), workers and the CLI reach it through :func:`get_engine`."""
    key = (settings.require_database_url(), settings.db_pool_size, settings.db_max_overflow)
    found = _engines.get(key)
    if found is None:
        found = create_async_engine(key[0], pool_size=key[1], max_overflow=key[2])
        _watch_liveness(found)
        _engines[key] = found
        _autocommit_pool_sizes[_url_key(found)] = settings.db_autocommit_pool_size
    return found


def _watch_liveness(engine: AsyncEngine) -> None:
    """Hand out only live connections, without a round trip per checkout.

    ``pool_pre_ping`` would cost every request a ``SELECT 1`` per pool it uses (a chat post
    uses two). Instead: a connection whose socket is readable while idle has been told
    something by the server, and an idle connection only ever hears one thing, that it is
    being closed (a restart, a terminated backend): it is replaced at once, with no round
    trip. A connection idle for ``PING_AFTER_IDLE_S`` (where a silent network drop becomes
    plausible) is pinged as before; a failed ping recycles the whole pool.
    """
    dialect = engine.sync_engine.dialect

    def checkin(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None:
            return  # a fresh connection
        if _told_to_close(dbapi_connection):
            raise exc.DisconnectionError("the server closed this connection")
        if time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            raise exc.InvalidatePoolError(f"ping failed: {error}") from error
        if not alive:
            raise exc.InvalidatePoolError("ping failed")

    event.listen(engine.sync_engine, "checkin", checkin)
    event.listen(engine.sync_engine, "checkout", checkout)


def _told_to_close(dbapi_connection: Any) -> bool:
    connection = getattr(dbapi_connection, "driver_connection", None)
    if connection is None or connection.closed or connection.broken:
        return True
    try:
        readable, _, _ = select.select([connection.pgconn.socket], [], [], 0)
    except (OSError, ValueError, psycopg.Error):
        return True
    return bool(readable)


async def use_autocommit(session: AsyncSession) -> None:
    """Run the session's statements each as its own transaction, without the ``BEGIN`` and
    ``COMMIT`` round trips: for a unit of work that reads and then writes with one statement
    (a chat post, a socket's admission). Call it before the session's first statement. A
    session bound to a connection (a test's, or a caller composing a bigger transaction)
    keeps that transaction."""
    if isinstance(session.bind, AsyncEngine) and not session.in_transaction():
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        session.info["autocommit"] = True


def in_autocommit(session: AsyncSession) -> bool:
    """Whether ``use_autocommit`` put the session in autocommit."""
    return bool(session.info.get("autocommit"))


def sessionmaker_for(settings: Settings) -> async_sessionmaker[AsyncSession]:
    engine = engine_for(settings)
    found = _sessionmakers.get(engine)
    if found is None:
        found = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        _sessionmakers[engine] = found
    return found


def get_engine() -> AsyncEngine:
    """The process's engine, from the process's settings (outside a request)."""
    return engine_for(get_settings())


def autocommit_engine_for(engine: AsyncEngine) -> AsyncEngine:
    """A small pool next to ``engine``'s, in autocommit, for statements that are their own
    transaction (a chat post: docs/realtime.md). Its own pool, so a request holding a session
    connection never waits for a connection from the pool it holds one of."""
    url = _url_key(engine)
    found = _autocommit_engines.get(url)
    if found is None:
        found = create_async_engine(
            engine.url,
            pool_size=_autocommit_pool_sizes.get(url, DEFAULT_AUTOCOMMIT_POOL_SIZE),
            max_overflow=0,
            isolation_level="AUTOCOMMIT",
        )
        _watch_liveness(found)
        _autocommit_engines[url] = found
    return found


def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    return sessionmaker_for(get_settings())


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run ``callback`` once the session's transaction has committed (never on rollback)."""
    session.info.setdefault("after_commit", []).append(callback)


async def _run_after_commit(session: AsyncSession) -> None:
    callbacks: list[AfterCommit] = session.info.pop("after_commit", [])
    for callback in callbacks:
        # The data is committed: a failing side effect (Redis down while a live event or a
        # cache invalidation goes out) is logged, and neither skips the others nor turns the
        # committed request into an error.
        try:
            result = callback()
            if result is not None:
                await result
        except Exception:
            logger.exception("after-commit callback failed")


@asynccontextmanager
async def session_scope(
    maker: async_sessionmaker[AsyncSession] | None = None,
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any error."""
    session = (maker or get_sessionmaker())()
    try:
        yield session
        # A unit of work that never touched the database (a read answered from the read
        # cache) has nothing to commit or close: skipping both saves two greenlet hops.
        used = session.in_transaction()
        if used:
            await session.commit()
    except BaseException:
        session.info.pop("after_commit", None)
        await session.rollback()
        await session.close()
        raise
    if used:
        await session.close()
    await _run_after_commit(session)


async def dispose_engine() -> None:
    """Close every pool of the process (the app's lifespan, the end of a test session)."""
    engines = [*_autocommit_engines.values(), *_engines.values()]
    _autocommit_engines.clear()
    _engines.clear()
    _sessionmakers.clear()
    for engine in engines:
        await engine.dispose()
