from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from api.models import Artist, Genre, Track, TrackGenre
from api.tracks.catalog import CatalogTrack, read_spotify_songs
from api.tracks.service import tracks_service


@pytest.fixture(scope="module")
def catalog() -> list[CatalogTrack]:
    return read_spotify_songs()


def test_bundled_catalog_has_one_row_per_track(catalog: list[CatalogTrack]) -> None:
    # 28,356 distinct ids in the file; rows without a title or artist are dropped.
    assert 28_300 < len(catalog) <= 28_356
    assert len({track.spotify_id for track in catalog}) == len(catalog)
    assert all(track.title and track.artist and track.duration_ms > 0 for track in catalog)
    assert {"pop", "rap", "rock", "latin", "r&b", "edm"} <= {g for t in catalog for g in t.genres}


def test_a_track_in_several_playlists_gets_all_their_genres(
    catalog: list[CatalogTrack],
) -> None:
    multi = [track for track in catalog if len(track.genres) > 2]
    assert multi, "the catalog has tracks from playlists of different genres"
    assert all(len(set(track.genres)) == len(track.genres) for track in multi)


async def _counts(session: AsyncSession) -> tuple[int, int, int, int]:
    return (
        await session.scalar(select(func.count()).select_from(Track)) or 0,
        await session.scalar(select(func.count()).select_from(Artist)) or 0,
        await session.scalar(select(func.count()).select_from(Genre)) or 0,
        await session.scalar(select(func.count()).select_from(TrackGenre)) or 0,
    )


async def test_import_is_idempotent(session: AsyncSession, catalog: list[CatalogTrack]) -> None:
    sample = catalog[:500]
    first = await tracks_service.import_catalog(session, sample)
    counts = await _counts(session)
    second = await tracks_service.import_catalog(session, sample)
    assert first == second
    assert await _counts(session) == counts
    assert counts[0] == 500
    assert counts[3] == sum(len(track.genres) for track in sample)


async def test_imported_track_has_artist_and_genres(
    session: AsyncSession, catalog: list[CatalogTrack]
) -> None:
    source = next(track for track in catalog if len(track.genres) >= 2)
    await tracks_service.import_catalog(session, [source])
    track = await session.scalar(
        select(Track)
        .where(Track.spotify_id == source.spotify_id)
        .options(selectinload(Track.artists), selectinload(Track.genres))
    )
    assert track is not None
    assert track.title == source.title
    assert [artist.name for artist in track.artists] == [source.artist]
    assert track.artist_names == source.artist
    word = source.artist.split()[0].lower()
    found = await session.scalar(
        select(Track.spotify_id).where(
            Track.search_vector.bool_op("@@")(func.to_tsquery("simple", f"{word}:*"))
        )
    )
    assert found == source.spotify_id
    assert sorted(genre.slug for genre in track.genres) == sorted(source.genres)


async def test_reimport_refreshes_changed_fields(
    session: AsyncSession, catalog: list[CatalogTrack]
) -> None:
    source = catalog[0]
    await tracks_service.import_catalog(session, [source])
    changed = CatalogTrack(**{**_fields(source), "popularity": 1, "title": "Renamed"})
    await tracks_service.import_catalog(session, [changed])
    session.expire_all()
    track = await session.scalar(select(Track).where(Track.spotify_id == source.spotify_id))
    assert track is not None
    assert (track.title, track.popularity) == ("Renamed", 1)
    assert await session.scalar(select(func.count()).select_from(Track)) == 1


async def test_genres_endpoint_lists_vocabulary_with_counts(
    client: httpx.AsyncClient, session: AsyncSession, catalog: list[CatalogTrack]
) -> None:
    sample = catalog[:300]
    await tracks_service.import_catalog(session, sample)
    await session.commit()
    response = await client.get("/genres")
    assert response.status_code == 200
    body = response.json()
    by_slug = {genre["slug"]: genre for genre in body}
    expected_pop = sum("pop" in track.genres for track in sample)
    assert by_slug["pop"] == {"slug": "pop", "name": "Pop", "track_count": expected_pop}
    assert [genre["name"] for genre in body] == sorted(genre["name"] for genre in body)


def _fields(track: CatalogTrack) -> dict[str, object]:
    return {name: getattr(track, name) for name in CatalogTrack.__slots__}
