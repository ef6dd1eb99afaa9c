"""Async helpers that put rows in the test's database, with sensible defaults."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.crypto import token_cipher
from api.auth.tokens import issue_access_token
from api.core.config import Settings
from api.genres.vocabulary import genre_display_name, genre_slug
from api.models import (
    Artist,
    Genre,
    IdentityStatus,
    OAuthIdentity,
    OAuthProvider,
    Track,
    TrackArtist,
    TrackGenre,
    User,
    UserGenre,
)
from api.tracks.service import catalog_artist_id

_counter = itertools.count(1)


async def create_user(
    session: AsyncSession,
    *,
    display_name: str | None = None,
    email: str | None = None,
    email_verified: bool = False,
    avatar_url: str | None = None,
    genres: Sequence[Genre] = (),
) -> User:
    user = User(
        display_name=display_name or f"Listener {next(_counter)}",
        email=email,
        email_verified=email_verified,
        avatar_url=avatar_url,
    )
    session.add(user)
    await session.flush()
    for genre in genres:
        session.add(UserGenre(user_id=user.id, genre_id=genre.id))
    await session.flush()
    return user


async def create_genre(session: AsyncSession, name: str) -> Genre:
    slug = genre_slug(name)
    assert slug is not None
    genre = Genre(slug=slug, name=genre_display_name(slug))
    session.add(genre)
    await session.flush()
    return genre


async def create_identity(
    session: AsyncSession,
    user: User,
    settings: Settings,
    *,
    provider: OAuthProvider = OAuthProvider.spotify,
    subject: str | None = None,
    access_token: str | None = None,
    refresh_token: str | None = None,
    expires_in_s: int = 3600,
    status: IdentityStatus = IdentityStatus.active,
) -> OAuthIdentity:
    cipher = token_cipher(settings)
    identity = OAuthIdentity(
        user_id=user.id,
        provider=provider,
        subject=subject or f"{provider.value}-{uuid.uuid4().hex[:12]}",
        status=status,
        access_token_enc=cipher.encrypt(access_token) if access_token else None,
        refresh_token_enc=cipher.encrypt(refresh_token) if refresh_token else None,
        token_expires_at=datetime.now(UTC) + timedelta(seconds=expires_in_s),
    )
    session.add(identity)
    await session.flush()
    return identity


def auth_headers(settings: Settings, user: User | uuid.UUID) -> dict[str, str]:
    user_id = user if isinstance(user, uuid.UUID) else user.id
    token, _ = issue_access_token(settings, user_id)
    return {"Authorization": f"Bearer {token}"}


def new_spotify_id() -> str:
    """A fresh id in Spotify's format (22 base62 characters)."""
    return uuid.uuid4().hex[:22]


async def create_track(
    session: AsyncSession,
    *,
    spotify_id: str | None = None,
    title: str | None = None,
    artists: Sequence[str] = ("Test Artist",),
    album: str | None = "Test Album",
    duration_ms: int = 200_000,
    genres: Sequence[Genre] = (),
) -> Track:
    """A catalog track with artists by name (the catalog's artist ids) and genres."""
    track = Track(
        spotify_id=spotify_id or new_spotify_id(),
        title=title or f"Track {next(_counter)}",
        artist_names=", ".join(artists),
        album=album,
        duration_ms=duration_ms,
    )
    session.add(track)
    await session.flush()
    for position, name in enumerate(artists):
        artist_id = catalog_artist_id(name)
        if await session.get(Artist, artist_id) is None:
            session.add(Artist(id=artist_id, name=name))
            await session.flush()
        session.add(TrackArtist(track_id=track.id, artist_id=artist_id, position=position))
    for genre in genres:
        session.add(TrackGenre(track_id=track.id, genre_id=genre.id))
    await session.flush()
    return track
