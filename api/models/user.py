from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.models.base import Base, TimestampMixin, str_enum, uuid_pk
from api.models.catalog import Genre
from api.models.enums import IdentityStatus, OAuthProvider


class User(TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        # Emails are compared case-insensitively; at most one account per email.
        Index("uq_users_email_lower", func.lower(text("email")), unique=True),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    display_name: Mapped[str] = mapped_column(String(64), nullable=False)
    email: Mapped[str | None] = mapped_column(String(320))
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    avatar_url: Mapped[str | None] = mapped_column(Text)
    # Demo listeners built from the catalog's playlists; shown as such in the SPA.
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")

    favorite_genres: Mapped[list[Genre]] = relationship(
        secondary="user_genres", lazy="raise", order_by="Genre.name"
    )
    identities: Mapped[list[OAuthIdentity]] = relationship(
        back_populates="user", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )


class OAuthIdentity(TimestampMixin, Base):
    __tablename__ = "oauth_identities"
    __table_args__ = (
        UniqueConstraint("provider", "subject"),
        UniqueConstraint("user_id", "provider"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    provider: Mapped[OAuthProvider] = mapped_column(
        str_enum(OAuthProvider, "oauth_provider"), nullable=False
    )
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    email: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[IdentityStatus] = mapped_column(
        str_enum(IdentityStatus, "identity_status"),
        default=IdentityStatus.active,
        server_default=IdentityStatus.active.value,
        nullable=False,
    )
    # Provider tokens are Fernet-encrypted at rest (api.auth.crypto).
    access_token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    refresh_token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    scopes: Mapped[str | None] = mapped_column(Text)
    # Spotify recently-played cursor (ms since epoch of the newest imported play).
    history_cursor_ms: Mapped[int | None] = mapped_column(BigInteger)

    user: Mapped[User] = relationship(back_populates="identities", lazy="raise")


class UserGenre(Base):
    __tablename__ = "user_genres"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    genre_id: Mapped[int] = mapped_column(
        ForeignKey("genres.id", ondelete="CASCADE"), primary_key=True, index=True
    )
