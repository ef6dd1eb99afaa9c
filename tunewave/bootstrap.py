"""Bringing a database to a usable state: migrate, import the catalog, seed the demo.

Shared by the ``tunewave`` command (tunewave/cli.py: ``migrate``, ``catalog import``, the startup
steps of ``tunewave run``), the test suite and the benchmarks (bench/), so that each of them
prepares a database the same way. Every function takes the database URL it works on (never
the process environment) and is idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from pathlib import Path

from api.core.config import PROJECT_ROOT


class BootstrapError(Exception):
    """A failure the user can act on (an unreachable database): one line, no traceback."""


def migrate(database_url: str) -> None:
    """``alembic upgrade head`` against ``database_url``."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    # Our logging is already configured; alembic's ini would replace it.
    config.attributes["configure_logger"] = False
    try:
        command.upgrade(config, "head")
    except OperationalError as exc:
        where = make_url(database_url).render_as_string(hide_password=True)
        raise BootstrapError(f"cannot migrate {where}: {exc.orig or exc}") from exc


def _migrations_fingerprint() -> str:
    """A hash of the migration scripts: when it and the database's revision match what the
    last upgrade left, there is nothing to upgrade."""
    digest = hashlib.sha256()
    folder = PROJECT_ROOT / "migrations"
    for path in sorted([folder / "env.py", *folder.glob("versions/*.py")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _database_revision(database_url: str) -> str | None:
    """The database's alembic revision, read with psycopg alone (no alembic import)."""
    import psycopg
    from sqlalchemy.engine import make_url

    conninfo = make_url(database_url).set(drivername="postgresql")
    try:
        with psycopg.connect(
            conninfo.render_as_string(hide_password=False), connect_timeout=10
        ) as connection:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except psycopg.Error:
        return None
    return None if row is None else str(row[0])


def migrate_if_needed(database_url: str, stamp: Path) -> str:
    """``migrate`` unless ``stamp`` (written after the last upgrade) shows the database is
    already at the head of these scripts; importing alembic and walking the scripts is a few
    seconds of every start otherwise. Returns what was done, for the console."""
    key = hashlib.sha256(database_url.encode()).hexdigest()
    fingerprint = _migrations_fingerprint()
    try:
        recorded = json.loads(stamp.read_text())
    except (OSError, ValueError):
        recorded = {}
    revision = _database_revision(database_url)
    if (
        revision is not None
        and recorded.get("database") == key
        and recorded.get("fingerprint") == fingerprint
        and recorded.get("revision") == revision
    ):
        return f"up to date ({revision})"
    migrate(database_url)
    revision = _database_revision(database_url)
    with contextlib.suppress(OSError):
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(
            json.dumps({"database": key, "fingerprint": fingerprint, "revision": revision})
        )
    return f"upgraded to {revision}"


def import_catalog(
    database_url: str, path: Path | None = None, *, only_if_empty: bool = False
) -> int:
    """Load the bundled Spotify catalog (or ``path``); return how many tracks it holds."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from api.core.db import session_scope
    from api.tracks.catalog import SPOTIFY_SONGS_PATH
    from api.tracks.service import tracks_service

    async def load() -> int:
        engine = create_async_engine(database_url)
        try:
            async with session_scope(async_sessionmaker(engine)) as session:
                existing = await tracks_service.count_tracks(session)
                if only_if_empty and existing:
                    return existing
                result = await tracks_service.import_catalog_file(
                    session, path or SPOTIFY_SONGS_PATH
                )
                return result.tracks
        finally:
            await engine.dispose()

    return asyncio.run(load())


def seed_demo_listeners(database_url: str) -> int:
    """Turn the catalog's playlists into demo listeners, unless they are already there.
    Returns how many listening events were loaded (0: already loaded)."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from api.core.db import session_scope
    from api.demo.playlists import read_playlists
    from api.demo.service import demo_service

    async def load() -> int:
        engine = create_async_engine(database_url)
        try:
            async with session_scope(async_sessionmaker(engine)) as session:
                # Asked first: reading the playlists (pandas) is the slow part of a restart.
                if await demo_service.seeded(session):
                    return 0
                return await demo_service.seed(session, read_playlists())
        finally:
            await engine.dispose()

    return asyncio.run(load())
