from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from api.models.base import Base, str_enum, uuid_pk
from api.models.enums import ListeningSource, ModelRunStatus


class ListeningEvent(Base):
    __tablename__ = "listening_events"
    __table_args__ = (
        # Imports are idempotent: the same play from the same source is stored once.
        UniqueConstraint("user_id", "source", "track_id", "played_at"),
        Index("ix_listening_events_user_id_played_at", "user_id", text("played_at DESC")),
        CheckConstraint("ms_played >= 0", name="ms_played_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    track_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tracks.id", ondelete="CASCADE"), nullable=False, index=True
    )
    source: Mapped[ListeningSource] = mapped_column(
        str_enum(ListeningSource, "listening_source"), nullable=False
    )
    room_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="SET NULL"), index=True
    )
    played_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ms_played: Mapped[int] = mapped_column(Integer, nullable=False)


class ModelRun(Base):
    __tablename__ = "model_runs"

    id: Mapped[uuid.UUID] = uuid_pk()
    version: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    model_name: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[ModelRunStatus] = mapped_column(
        str_enum(ModelRunStatus, "model_run_status"), nullable=False
    )
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    n_users: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    n_items: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    n_interactions: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    artifact_path: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    trained_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
