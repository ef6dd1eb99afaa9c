"""Bulk loading through COPY: tens of thousands of rows in one round trip.

Rows are copied into a temporary table with the target's column types, then moved with one
``INSERT ... SELECT ... ON CONFLICT``, so loads stay idempotent and run inside the caller's
transaction (the session's unit of work still commits or rolls back everything).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from psycopg import sql
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession


async def copy_insert(
    session: AsyncSession,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    on_conflict: str = "ON CONFLICT DO NOTHING",
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """COPY ``rows`` into ``table``; ``on_conflict`` and ``returning`` are trusted SQL."""
    known = set(table.columns.keys())
    unknown = [name for name in (*columns, *returning) if name not in known]
    if unknown:
        raise ValueError(f"{table.name} has no columns {unknown}")
    column_list = sql.SQL(", ").join(map(sql.Identifier, columns))
    target = sql.Identifier(table.name)
    staging = sql.Identifier(f"_copy_{table.name}")
    returning_sql = (
        sql.SQL(" RETURNING ") + sql.SQL(", ").join(map(sql.Identifier, returning))
        if returning
        else sql.SQL("")
    )
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    async with driver.cursor() as cursor:
        # Only the copied columns, without constraints: generated columns and NOT NULLs of
        # columns left to their defaults apply when the rows reach the real table.
        await cursor.execute(
            sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
                staging, column_list, target
            )
        )
        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(staging, column_list)
        async with cursor.copy(copy_sql) as copy:
            for row in rows:
                await copy.write_row(row)
        await cursor.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ").format(
                target, column_list, column_list, staging
            )
            + sql.SQL(on_conflict)  # type: ignore[arg-type]
            + returning_sql
        )
        result = [tuple(row) for row in await cursor.fetchall()] if returning else []
        await cursor.execute(sql.SQL("DROP TABLE {}").format(staging))
    return result
