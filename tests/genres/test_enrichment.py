"""Genre enrichment against real PostgreSQL and Redis, with the fake Spotify on loopback."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import Settings, get_settings
from api.genres.enrichment import enrichment_service
from api.models import Artist, ArtistGenre, Genre, TrackGenre
from api.tracks.service import catalog_artist_id
from tests.factories import create_genre, create_track
from tests.fakes.fixtures import spotify_settings
from tests.fakes.spotify import FakeSpotify, spotify_artist_id


@pytest.fixture
def settings(fake_spotify: FakeSpotify) -> Settings:
    fake_spotify.client_secret = "fake-secret"
    return get_settings().model_copy(
        update={**spotify_settings(fake_spotify), "spotify_client_secret": SecretStr("fake-secret")}
    )


async def _artist(session: AsyncSession, name: str, *, provider: bool = True) -> Artist:
    artist = Artist(
        id=catalog_artist_id(name),
        name=name,
        spotify_id=spotify_artist_id(name) if provider else None,
    )
    session.add(artist)
    await session.flush()
    return artist


async def _genres_of(session: AsyncSession, artist: Artist) -> list[str]:
    result = await session.scalars(
        select(Genre.slug)
        .join(ArtistGenre, ArtistGenre.genre_id == Genre.id)
        .where(ArtistGenre.artist_id == artist.id)
        .order_by(Genre.slug)
    )
    return list(result)


async def test_provider_genres_are_normalised_into_the_vocabulary_in_batches_of_50(
    session: AsyncSession, redis: Redis, settings: Settings, fake_spotify: FakeSpotify
) -> None:
    await create_genre(session, "Hip-Hop")
    artists = [await _artist(session, f"Band {n}") for n in range(60)]
    fake_spotify.add_artist("Band 0", ["Hip Hop", "  Indie ROCK ", "rnb"])
    fake_spotify.add_artist("Band 1", [])
    track = await create_track(session, artists=("Band 0",))

    result = await enrichment_service.enrich(session, redis, settings)

    assert [len(ids) for ids in fake_spotify.artist_requests] == [50, 10]
    assert result.artists_looked_up == 60
    assert result.artists_from_provider == 1
    assert await _genres_of(session, artists[0]) == ["hip hop", "indie rock", "r&b"]
    assert await _genres_of(session, artists[1]) == []
    # Every artist was asked about once; a second run asks Spotify nothing.
    await session.refresh(artists[1])
    assert artists[1].genres_checked_at is not None
    # The track without genres took its artist's.
    track_genres = await session.scalars(
        select(Genre.slug)
        .join(TrackGenre, TrackGenre.genre_id == Genre.id)
        .where(TrackGenre.track_id == track.id)
        .order_by(Genre.slug)
    )
    assert list(track_genres) == ["hip hop", "indie rock", "r&b"]
    assert result.tracks_filled == 1

    again = await enrichment_service.enrich(session, redis, settings)

    assert len(fake_spotify.artist_requests) == 2
    assert again.artists_looked_up == 0


async def test_without_provider_genres_an_artist_takes_its_catalog_tracks_genres(
    session: AsyncSession, redis: Redis, settings: Settings, fake_spotify: FakeSpotify
) -> None:
    latin, pop, rock, dub = [
        await create_genre(session, name) for name in ("Latin", "Pop", "Rock", "Dub")
    ]
    artist = await _artist(session, "Unknown To Spotify")
    for genres in ([latin], [latin, pop], [latin, pop], [rock], [latin], [dub]):
        await create_track(session, artists=("Unknown To Spotify",), genres=genres)

    result = await enrichment_service.enrich(session, redis, settings)

    # The three genres most of its tracks carry (ties: the older genre), from the catalog.
    assert await _genres_of(session, artist) == ["latin", "pop", "rock"]
    assert result.artists_from_catalog == 3


async def test_a_rate_limit_keeps_what_was_stored_and_reports_retry_after(
    session: AsyncSession, redis: Redis, settings: Settings, fake_spotify: FakeSpotify
) -> None:
    for n in range(60):
        await _artist(session, f"Act {n}")
        fake_spotify.add_artist(f"Act {n}", ["techno"])
    first = await enrichment_service.enrich(session, redis, settings, max_artists=50)
    left = list(await session.scalars(select(Artist).where(Artist.genres_checked_at.is_(None))))
    fake_spotify.fail("/v1/artists", 429, times=1, retry_after_s=42)

    limited = await enrichment_service.enrich(session, redis, settings)

    assert first.artists_from_provider == 50
    assert len(left) == 10
    assert limited.retry_after_s == 42
    assert [await _genres_of(session, artist) for artist in left] == [[]] * 10
    resumed = await enrichment_service.enrich(session, redis, settings)
    assert resumed.retry_after_s is None
    assert resumed.artists_looked_up == 10
    assert [await _genres_of(session, artist) for artist in left] == [["techno"]] * 10


async def test_without_spotify_only_the_catalog_is_used(
    session: AsyncSession, redis: Redis, fake_spotify: FakeSpotify
) -> None:
    jazz = await create_genre(session, "Jazz")
    artist = await _artist(session, "Local Trio", provider=False)
    await create_track(session, artists=("Local Trio",), genres=[jazz])

    result = await enrichment_service.enrich(session, redis, get_settings())

    assert fake_spotify.requests == []
    assert result.artists_looked_up == 0
    assert await _genres_of(session, artist) == ["jazz"]
