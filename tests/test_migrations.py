"""One Alembic history: it builds the schema from nothing, tears it down, and matches the models."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from api.models import Base
from tests.conftest import TEST_DATABASE_URL
from tests.support.database import (
    downgrade_to_base,
    drop_database,
    recreate_database,
    upgrade_to_head,
)

# Named after the suite's database, so checkouts testing side by side never share it.
SCRATCH_URL = make_url(TEST_DATABASE_URL).set(
    database=f"{make_url(TEST_DATABASE_URL).database}_migrations"
)
SCRATCH = SCRATCH_URL.render_as_string(hide_password=False)


@pytest.fixture
async def scratch_database() -> AsyncIterator[str]:
    await recreate_database(SCRATCH)
    yield SCRATCH
    await drop_database(SCRATCH)


async def _run_sync(url: str, fn):  # type: ignore[no-untyped-def]
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(fn)
    finally:
        await engine.dispose()


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _diff(connection: Connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


async def test_upgrade_from_empty_creates_every_model_table(scratch_database: str) -> None:
    await upgrade_to_head(scratch_database)
    tables = await _run_sync(scratch_database, _tables)
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


async def test_downgrade_to_base_and_up_again(scratch_database: str) -> None:
    await upgrade_to_head(scratch_database)
    await downgrade_to_base(scratch_database)
    assert await _run_sync(scratch_database, _tables) == {"alembic_version"}
    await upgrade_to_head(scratch_database)
    assert set(Base.metadata.tables) <= await _run_sync(scratch_database, _tables)


async def test_models_and_migrations_agree(scratch_database: str) -> None:
    await upgrade_to_head(scratch_database)
    assert await _run_sync(scratch_database, _diff) == []


USER_ID = "00000000-0000-0000-0000-000000000001"
ROOM_ID = "00000000-0000-0000-0000-000000000002"
SCHEMA_RULES = {
    "room names are unique regardless of case": [
        "INSERT INTO rooms (id, name) VALUES (gen_random_uuid(), 'Indie Night')",
        "INSERT INTO rooms (id, name) VALUES (gen_random_uuid(), 'indie night')",
    ],
    "a private room has a password hash": [
        "INSERT INTO rooms (id, name, is_private) VALUES (gen_random_uuid(), 'x', true)",
    ],
    "emails are unique regardless of case": [
        "INSERT INTO users (id, display_name, email) VALUES (gen_random_uuid(), 'a', 'A@x.io')",
        "INSERT INTO users (id, display_name, email) VALUES (gen_random_uuid(), 'b', 'a@X.io')",
    ],
    "queue entries belong to an existing room": [
        "INSERT INTO queue_entries (id, room_id, track_id, position) "
        "VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 1)",
    ],
    "a member's role is a known role": [
        f"INSERT INTO users (id, display_name) VALUES ('{USER_ID}', 'u')",
        f"INSERT INTO rooms (id, name) VALUES ('{ROOM_ID}', 'r')",
        f"INSERT INTO room_members (room_id, user_id, role) VALUES ('{ROOM_ID}', '{USER_ID}', 'x')",
    ],
}


@pytest.mark.parametrize("rule", SCHEMA_RULES)
async def test_schema_enforces_its_rules(rule: str, db_connection: AsyncConnection) -> None:
    """Uniqueness, foreign keys and checks live in the schema, not only in code."""
    *setup, violating = SCHEMA_RULES[rule]
    savepoint = await db_connection.begin_nested()
    for sql in setup:
        await db_connection.execute(text(sql))
    with pytest.raises(IntegrityError, match="violates"):
        await db_connection.execute(text(violating))
    await savepoint.rollback()


def test_history_is_linear() -> None:
    from alembic.script import ScriptDirectory

    from tests.support.database import alembic_config

    script = ScriptDirectory.from_config(alembic_config(SCRATCH))
    assert len(script.get_heads()) == 1
