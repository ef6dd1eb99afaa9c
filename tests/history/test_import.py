"""The Spotify history import, run in-process against real PostgreSQL and the fake Spotify."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.core.config import Settings, get_settings
from api.history.service import history_service
from api.integrations.spotify.client import SpotifyRateLimited
from api.models import Artist, IdentityStatus, ListeningEvent, OAuthIdentity, Track, User
from tests.factories import create_identity, create_track, create_user
from tests.fakes.fixtures import spotify_settings
from tests.fakes.spotify import FakeSpotify, spotify_artist_id, spotify_track

T0_MS = 1_790_000_000_000  # 2026-09-21


@pytest.fixture
def settings(fake_spotify: FakeSpotify) -> Settings:
    return get_settings().model_copy(update=spotify_settings(fake_spotify))


async def _linked_user(
    session: AsyncSession,
    settings: Settings,
    fake: FakeSpotify,
    *,
    expires_in_s: int = 3600,
    spotify_user: str = "sp-alice",
) -> User:
    fake.add_user(spotify_user)
    user = await create_user(session, display_name="alice")
    await create_identity(
        session,
        user,
        settings,
        subject=spotify_user,
        access_token=fake.grant_access_token(spotify_user),
        refresh_token=fake.grant_refresh_token(spotify_user),
        expires_in_s=expires_in_s,
    )
    await session.commit()
    return user


def _play(fake: FakeSpotify, n: int, *, user: str = "sp-alice", artist: str = "Slowdive") -> None:
    track = spotify_track(f"spotifytrack{n:010d}", f"Song {n}", artist, duration_ms=180_000 + n)
    fake.add_play(user, track, T0_MS + n * 60_000)


async def _events(session: AsyncSession, user: User) -> list[ListeningEvent]:
    result = await session.scalars(
        select(ListeningEvent)
        .where(ListeningEvent.user_id == user.id)
        .order_by(ListeningEvent.played_at)
    )
    return list(result)


async def _identity(session: AsyncSession, user: User) -> OAuthIdentity:
    identity = await session.scalar(
        select(OAuthIdentity)
        .where(OAuthIdentity.user_id == user.id)
        .execution_options(populate_existing=True)
    )
    assert identity is not None
    return identity


async def test_imports_every_page_once_and_moves_the_cursor(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    fake_spotify: FakeSpotify,
) -> None:
    user = await _linked_user(session, settings, fake_spotify)
    for n in range(70):
        _play(fake_spotify, n, artist="Slowdive" if n % 2 else "Beach House")

    result = await history_service.import_spotify_history(settings, user.id, maker=sessionmaker)

    assert (result.status, result.stored, result.pages) == ("imported", 70, 2)
    events = await _events(session, user)
    assert len(events) == 70
    assert events[0].played_at == datetime.fromtimestamp(T0_MS / 1000, tz=UTC)
    assert {event.source.value for event in events} == {"spotify"}
    assert events[5].ms_played == 180_005
    assert (await _identity(session, user)).history_cursor_ms == T0_MS + 69 * 60_000
    # Unknown tracks joined the catalog with their artists and Spotify artist ids.
    assert await session.scalar(select(func.count()).select_from(Track)) == 70
    artist = await session.scalar(select(Artist).where(Artist.name == "Slowdive"))
    assert artist is not None
    assert artist.spotify_id == spotify_artist_id("Slowdive")
    # The second page was asked for with Spotify's `before` cursor.
    assert fake_spotify.history_requests[1]["before"] == str(T0_MS + 20 * 60_000)

    again = await history_service.import_spotify_history(settings, user.id, maker=sessionmaker)

    assert (again.status, again.stored) == ("imported", 0)
    assert fake_spotify.history_requests[-1]["after"] == str(T0_MS + 69 * 60_000)
    assert len(await _events(session, user)) == 70


async def test_a_later_run_adds_only_new_plays_and_keeps_catalog_tracks(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    fake_spotify: FakeSpotify,
) -> None:
    user = await _linked_user(session, settings, fake_spotify)
    catalog = await create_track(session, spotify_id="spotifytrack0000000003", title="Catalog")
    await session.commit()
    for n in range(3):
        _play(fake_spotify, n)
    await history_service.import_spotify_history(settings, user.id, maker=sessionmaker)
    for n in range(3, 5):
        _play(fake_spotify, n)

    result = await history_service.import_spotify_history(settings, user.id, maker=sessionmaker)

    assert result.stored == 2
    events = await _events(session, user)
    assert len(events) == 5
    # A track the catalog knew is reused as it is, not overwritten by Spotify's fields.
    assert events[3].track_id == catalog.id
    await session.refresh(catalog)
    assert catalog.title == "Catalog"


async def test_an_expired_token_is_refreshed_before_importing(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    fake_spotify: FakeSpotify,
) -> None:
    user = await _linked_user(session, settings, fake_spotify, expires_in_s=-10)
    _play(fake_spotify, 1)

    result = await history_service.import_spotify_history(settings, user.id, maker=sessionmaker)

    assert result.stored == 1
    assert fake_spotify.token_calls("refresh_token") == 1
    identity = await _identity(session, user)
    assert identity.token_expires_at is not None
    assert identity.token_expires_at > datetime.now(UTC)


async def test_a_revoked_link_is_marked_and_nothing_fails(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    fake_spotify: FakeSpotify,
) -> None:
    user = await _linked_user(session, settings, fake_spotify)
    _play(fake_spotify, 1)
    # The user removed TuneWave's access at Spotify: access and refresh tokens stop working.
    fake_spotify.revoke_user_tokens("sp-alice")

    result = await history_service.import_spotify_history(settings, user.id, maker=sessionmaker)

    assert result.status == "revoked"
    assert (await _identity(session, user)).status is IdentityStatus.revoked
    assert await _events(session, user) == []
    # A revoked link is not imported from again.
    assert user.id not in await history_service.importable_user_ids(session)


async def test_a_rate_limit_surfaces_with_retry_after_and_stores_nothing_twice(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    fake_spotify: FakeSpotify,
) -> None:
    user = await _linked_user(session, settings, fake_spotify)
    for n in range(3):
        _play(fake_spotify, n)
    fake_spotify.fail("/v1/me/player/recently-played", 429, times=1, retry_after_s=7)

    with pytest.raises(SpotifyRateLimited) as raised:
        await history_service.import_spotify_history(settings, user.id, maker=sessionmaker)

    assert raised.value.retry_after_s == 7
    assert await _events(session, user) == []
    result = await history_service.import_spotify_history(settings, user.id, maker=sessionmaker)
    assert result.stored == 3


async def test_a_user_without_spotify_is_not_imported(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    user = await create_user(session)
    await session.commit()

    result = await history_service.import_spotify_history(settings, user.id, maker=sessionmaker)

    assert result.status == "not_linked"
