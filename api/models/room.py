from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.models.base import Base, TimestampMixin, str_enum, uuid_pk
from api.models.catalog import Genre, Track
from api.models.enums import QueueEntryStatus, QueuePolicy, RoomRole

if TYPE_CHECKING:
    from api.models.user import User


class Room(TimestampMixin, Base):
    __tablename__ = "rooms"
    __table_args__ = (
        # Names are unique regardless of case ("Indie Night" == "indie night").
        Index("uq_rooms_name_lower", func.lower(text("name")), unique=True),
        CheckConstraint("NOT is_private OR password_hash IS NOT NULL", name="private_has_password"),
        Index("ix_rooms_last_activity_at", text("last_activity_at DESC")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    # NULL once the owner's account is gone and nobody was left to take the room over.
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    is_private: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    # argon2id hash; never leaves the server.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    queue_policy: Mapped[QueuePolicy] = mapped_column(
        str_enum(QueuePolicy, "queue_policy"),
        default=QueuePolicy.owner,
        server_default=QueuePolicy.owner.value,
        nullable=False,
    )
    # Per-room chat sequence: the last number handed out.
    last_message_seq: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0", nullable=False
    )
    last_activity_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    # A room seeded with the demo listeners: it plays its playlist in a loop, on the clock.
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")

    genres: Mapped[list[Genre]] = relationship(
        secondary="room_genres", lazy="raise", order_by="Genre.name"
    )


class RoomGenre(Base):
    __tablename__ = "room_genres"

    room_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    genre_id: Mapped[int] = mapped_column(
        ForeignKey("genres.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class RoomMember(Base):
    __tablename__ = "room_members"

    room_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[RoomRole] = mapped_column(
        str_enum(RoomRole, "room_role"),
        default=RoomRole.member,
        server_default=RoomRole.member.value,
        nullable=False,
    )
    # clock_timestamp(), not now(): joins inside one transaction still get their real order.
    joined_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp(), nullable=False
    )


class QueueEntry(Base):
    __tablename__ = "queue_entries"
    __table_args__ = (
        Index("ix_queue_entries_room_id_status_position", "room_id", "status", "position"),
        # One playing entry per room at most.
        Index(
            "uq_queue_entries_room_playing",
            "room_id",
            unique=True,
            postgresql_where=text("status = 'playing'"),
        ),
    )

    # The seed calls this the association id.
    id: Mapped[uuid.UUID] = uuid_pk()
    room_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False
    )
    track_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tracks.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    added_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Play order within the room; gaps leave room for reordering without renumbering.
    position: Mapped[int] = mapped_column(BigInteger, nullable=False)
    status: Mapped[QueueEntryStatus] = mapped_column(
        str_enum(QueueEntryStatus, "queue_entry_status"),
        default=QueueEntryStatus.queued,
        server_default=QueueEntryStatus.queued.value,
        nullable=False,
    )
    added_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

    track: Mapped[Track] = relationship(lazy="raise")
    # Who added it (None once their account is gone).
    adder: Mapped[User | None] = relationship(lazy="raise")


class RoomPlayback(Base):
    """Server-authoritative playback, derived from time (see docs/realtime.md).

    Playing: position = now_ms - started_at_ms. Paused: position = paused_position_ms.
    Every change bumps `version`, and changes are compare-and-set on it.
    """

    __tablename__ = "room_playback"
    __table_args__ = (
        CheckConstraint(
            "current_entry_id IS NULL OR started_at_ms IS NOT NULL "
            "OR paused_position_ms IS NOT NULL",
            name="entry_has_position",
        ),
    )

    room_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    current_entry_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("queue_entries.id", ondelete="SET NULL"), index=True
    )
    started_at_ms: Mapped[int | None] = mapped_column(BigInteger)
    paused_position_ms: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )
