from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    ScalarSelect,
    Select,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import Artist, Genre, Track, TrackArtist, TrackGenre

# Letters and digits in any script; '_' and everything else separates words, as in
# PostgreSQL's own parser, so nothing the user types can reach to_tsquery as an operator.
_WORD = re.compile(r"[^\W_]+")
_MAX_WORDS = 12
# Ranking every match of a one-letter prefix means rechecking and ranking ~8k rows (~10 ms);
# ranking a bounded candidate set keeps every search at a few milliseconds. Queries with
# fewer matches than the cap (nearly all of more than one letter) are ranked exactly.
CANDIDATE_CAP = 1000


def prefix_tsquery(text: str) -> str | None:
    """``word:* & word:*`` from the user's words, or None when there are no words."""
    words = _WORD.findall(text.lower())[:_MAX_WORDS]
    if not words:
        return None
    return " & ".join(f"{word}:*" for word in words)


@dataclass(frozen=True, slots=True)
class CatalogHit:
    id: uuid.UUID
    spotify_id: str
    title: str
    artist_names: str
    # (name, spotify_id) in credit order; empty for a track without artist rows.
    artists: Sequence[tuple[str, str | None]]
    album: str | None
    duration_ms: int
    image_url: str | None
    popularity: int | None
    release_date: str | None
    genres: Sequence[str]


@dataclass(frozen=True, slots=True)
class CatalogPage:
    hits: list[CatalogHit]
    total: int


def _tsquery() -> ScalarSelect[Any]:
    # A scalar subquery is an InitPlan, parsed once: once psycopg prepares the statement, a
    # generic plan would otherwise call to_tsquery again for every row it rechecks.
    return select(
        func.to_tsquery(literal_column("'simple'"), bindparam("tsquery", type_=None))
    ).scalar_subquery()


def _matches() -> ColumnElement[bool]:
    return Track.search_vector.bool_op("@@")(_tsquery())


def _build_search() -> Select[tuple[object, ...]]:
    """Capped candidates, the ranked page, and each row's artists and genres in one statement."""
    candidates = (
        select(Track.id, Track.search_vector, Track.popularity)
        .where(_matches())
        .limit(bindparam("cap"))
        .cte("candidates")
        .prefix_with("MATERIALIZED")
    )
    rank = func.ts_rank(candidates.c.search_vector, _tsquery(), type_=Float)
    ranked = (
        select(candidates.c.id, rank.label("rank"), func.count().over().label("total"))
        .order_by(rank.desc(), candidates.c.popularity.desc().nulls_last(), candidates.c.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
        .subquery("ranked")
    )
    credits = (
        select(
            func.json_agg(
                aggregate_order_by(
                    func.json_build_object(
                        literal_column("'name'"),
                        Artist.name,
                        literal_column("'spotify_id'"),
                        Artist.spotify_id,
                    ),
                    TrackArtist.position,
                )
            )
        )
        .select_from(TrackArtist)
        .join(Artist, Artist.id == TrackArtist.artist_id)
        .where(TrackArtist.track_id == Track.id)
        .scalar_subquery()
    )
    genres = (
        select(func.array_agg(aggregate_order_by(Genre.slug, Genre.slug)))
        .select_from(TrackGenre)
        .join(Genre, Genre.id == TrackGenre.genre_id)
        .where(TrackGenre.track_id == Track.id)
        .scalar_subquery()
    )
    return (
        select(
            Track.id,
            Track.spotify_id,
            Track.title,
            Track.artist_names,
            credits.label("credits"),
            Track.album,
            Track.duration_ms,
            Track.image_url,
            Track.popularity,
            Track.release_date,
            genres.label("genres"),
            ranked.c.total,
        )
        .join(ranked, ranked.c.id == Track.id)
        .order_by(ranked.c.rank.desc(), Track.popularity.desc().nulls_last(), Track.id)
    )


def _build_count() -> Select[int]:
    capped = select(Track.id).where(_matches()).limit(bindparam("cap")).subquery()
    return select(func.count()).select_from(capped)


# Built once: the statements are the same for every search, only the parameters change.
_SEARCH = _build_search()
_COUNT = _build_count()


class SearchRepository:
    async def search_catalog(
        self, session: AsyncSession, tsquery: str, *, limit: int, offset: int
    ) -> CatalogPage:
        """The ranked page and the capped match count (a second query only past the end)."""
        params = {"tsquery": tsquery, "limit": limit, "offset": offset, "cap": CANDIDATE_CAP}
        rows = (await session.execute(_SEARCH, params)).all()
        if not rows:
            # Past the last page no row carries the window's count.
            total = 0 if offset == 0 else int(await session.scalar(_COUNT, params) or 0)
            return CatalogPage([], total)
        hits = [
            CatalogHit(
                id=row.id,
                spotify_id=row.spotify_id,
                title=row.title,
                artist_names=row.artist_names,
                artists=[(a["name"], a["spotify_id"]) for a in row.credits or ()],
                album=row.album,
                duration_ms=row.duration_ms,
                image_url=row.image_url,
                popularity=row.popularity,
                release_date=row.release_date,
                genres=row.genres or [],
            )
            for row in rows
        ]
        return CatalogPage(hits, int(rows[0].total))


search_repository = SearchRepository()
