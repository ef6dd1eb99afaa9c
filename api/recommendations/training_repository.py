"""Queries of the training pipeline: the interaction export and the model_runs record."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import desc, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import ModelRun, ModelRunStatus


class TrainingRepository:
    async def interactions(self, session: AsyncSession) -> pd.DataFrame:
        """``user_id, item_id, weight``: plays per (listener, track), every source (rooms,
        Spotify imports, demo listeners); ids as strings."""
        result = await session.execute(
            text(
                "SELECT user_id::text, track_id::text, count(*) FROM listening_events "
                "GROUP BY user_id, track_id"
            )
        )
        return pd.DataFrame(result.all(), columns=["user_id", "item_id", "weight"]).astype(
            {"weight": "float32"}
        )

    async def catalogue(self, session: AsyncSession) -> tuple[pd.DataFrame, pd.Series]:
        """(item_id, tag) genres of every track with a play, and item_id -> artist names."""
        tags = await session.execute(
            text(
                "SELECT tg.track_id::text, g.slug FROM track_genres tg "
                "JOIN genres g ON g.id = tg.genre_id "
                "WHERE tg.track_id IN (SELECT DISTINCT track_id FROM listening_events)"
            )
        )
        names = await session.execute(
            text(
                "SELECT id::text, artist_names FROM tracks "
                "WHERE id IN (SELECT DISTINCT track_id FROM listening_events)"
            )
        )
        tag_frame = pd.DataFrame(tags.all(), columns=["item_id", "tag"])
        name_rows = names.all()
        series = pd.Series(
            [row[1] for row in name_rows], index=[row[0] for row in name_rows], dtype=object
        )
        return tag_frame, series

    async def run_by_version(self, session: AsyncSession, version: str) -> ModelRun | None:
        return await session.scalar(select(ModelRun).where(ModelRun.version == version))

    async def latest_published(self, session: AsyncSession) -> ModelRun | None:
        return await session.scalar(
            select(ModelRun)
            .where(ModelRun.status == ModelRunStatus.published)
            .order_by(desc(ModelRun.published_at))
            .limit(1)
        )

    async def add_run(self, session: AsyncSession, **fields: Any) -> ModelRun:
        run = ModelRun(id=uuid.uuid4(), **fields)
        session.add(run)
        await session.flush()
        return run

    async def mark_published(
        self, session: AsyncSession, run_id: uuid.UUID, at: datetime | None = None
    ) -> None:
        await session.execute(
            update(ModelRun)
            .where(ModelRun.id == run_id)
            .values(status=ModelRunStatus.published, published_at=at or func.now())
            .execution_options(synchronize_session=False)
        )


training_repository = TrainingRepository()
