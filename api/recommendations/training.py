"""The training pipeline: export, train, evaluate on a holdout, publish or refuse.

1. Export from PostgreSQL: plays per (listener, track) from every source, and the played
   tracks' genres and artist names.
2. Evaluate the candidate on a per-user holdout (fixed seed) and, on the same split, the live
   model's configuration (from its ``model_runs`` row). A candidate with a lower nDCG@10 than
   the live one is recorded as ``rejected`` and not published.
3. Fit the candidate on all interactions, save it as ``.npz`` under the data directory, and
   record the run (``trained``).
4. Publish to Redis under a new version (top-K tracks and people with reasons, the vectors and
   genre space live room scoring needs), switch the live version atomically, and mark the run
   ``published``.

One training at a time, whoever starts it (the worker, ``tunewave train``): the pipeline
runs holding the Redis lease ``tunewave:lease:training`` (api/core/lease.py). A second training
while one runs answers "busy"; a redelivered task that already completed answers
"duplicate". See docs/recommendations.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from threadpoolctl import threadpool_limits

from api.core.config import Settings
from api.core.db import session_scope
from api.core.lease import run_leased
from api.models import ModelRunStatus
from api.recommendations import store
from api.recommendations.reasons import model_people_parts, model_track_parts, render
from api.recommendations.scoring import SCORING_BLOB, scoring_blob
from api.recommendations.service import track_payload
from api.recommendations.training_repository import training_repository
from api.tracks.repository import tracks_repository
from recommender import (
    Dataset,
    GenreSpace,
    Recommender,
    TasteIndex,
    dataset_from_export,
    evaluate_model,
    holdout_split,
    make_model,
)

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "hybrid"
DEFAULT_PARAMS: dict[str, Any] = {"cf": "als", "cf_params": {"factors": 48, "iterations": 15}}
COMPARE_METRIC = "ndcg@10"
HOLDOUT_FRACTION = 0.2
SEED = 0
TOP_TRACKS = 50
TOP_PEOPLE = 20
MIN_USERS = 2
MIN_INTERACTIONS = 10
LEASE = "training"

Progress = Callable[[str], None]


@dataclass
class TrainingResult:
    status: str  # "published", "rejected", "skipped"; "busy", "duplicate" (the lease)
    version: str | None = None
    model_name: str = DEFAULT_MODEL
    metrics: dict[str, float] = field(default_factory=dict)
    live_metrics: dict[str, float] | None = None
    live_version: str | None = None
    n_users: int = 0
    n_items: int = 0
    n_interactions: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    detail: str = ""


@dataclass
class Export:
    interactions: pd.DataFrame
    item_tags: pd.DataFrame
    item_names: pd.Series


def new_version(model_name: str, now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    return f"{moment:%Y%m%dT%H%M%S}-{model_name}-{uuid.uuid4().hex[:6]}"


def _evaluate(
    name: str, params: dict[str, Any], dataset: Dataset, split: tuple[Any, Any]
) -> dict[str, float]:
    train, test = split
    with threadpool_limits(1, "blas"):
        metrics = evaluate_model(make_model(name, **params), train, test, dataset.features)
    return {key: round(float(value), 6) for key, value in metrics.items()}


def _fit(model: Recommender, dataset: Dataset) -> None:
    # implicit's ALS runs its own threads; a second BLAS thread pool only fights them.
    with threadpool_limits(1, "blas"):
        model.fit(dataset.interactions, dataset.all_item_tags())


def build_publication(
    model: Recommender,
    dataset: Dataset,
    genres: GenreSpace,
) -> tuple[dict[str, dict[str, Any]], bytes]:
    """Per-user answers and the room-scoring arrays of a fitted model (CPU only, no I/O).

    Returns the parts to publish (track entries hold ids, hydrated by the caller) and the
    ``.npz`` bytes of the arrays live room scoring needs.
    """
    interactions = dataset.interactions
    names = {str(k): str(v) for k, v in dataset.item_names.items()}
    taste_index = TasteIndex(model, interactions, genres, names)
    tracks: dict[str, Any] = {}
    people: dict[str, Any] = {}
    played = np.diff(interactions.matrix.indptr) > 0
    item_genres_cache: dict[int, list[str]] = {}
    user_vectors = taste_index.user_vectors
    for row, user_id in enumerate(interactions.user_ids):
        if not played[row]:
            continue
        user_key = str(user_id)
        recommended = taste_index.tracks(user_id, k=TOP_TRACKS)
        items = interactions.item_index([rec.id for rec in recommended]).tolist()
        all_parts = model_track_parts(
            taste_index, items, taste_index.taste(user_id), item_genres_cache
        )
        tracks[user_key] = [
            {
                "track_id": str(rec.id),
                "score": round(rec.score, 5),
                "reason": render(parts),
                "reason_parts": parts,
            }
            for rec, parts in zip(recommended, all_parts, strict=True)
        ]
        mine = genres.top_genres(taste_index.genre_profiles[row], 10)
        entries = []
        for rec in taste_index.people(user_id, k=TOP_PEOPLE):
            other = int(interactions.user_index([rec.id])[0])
            theirs = set(genres.top_genres(taste_index.genre_profiles[other], 10))
            parts = model_people_parts(taste_index, row, other)
            entries.append(
                {
                    "user_id": str(rec.id),
                    "score": round(rec.score, 5),
                    "reason": render(parts),
                    "reason_parts": parts,
                    "shared_genres": [g for g in mine if g in theirs][:5],
                }
            )
        people[user_key] = entries
    blob = scoring_blob(
        interactions.item_ids,
        interactions.user_ids,
        model.item_vectors(),
        user_vectors,
        genres,
        [names.get(str(item_id), "") for item_id in interactions.item_ids],
    )
    return {"tracks": tracks, "users": people}, blob


class TrainingService:
    async def export(self, session: AsyncSession) -> Export:
        interactions = await training_repository.interactions(session)
        item_tags, item_names = await training_repository.catalogue(session)
        return Export(interactions, item_tags, item_names)

    async def train_and_publish(
        self,
        redis: Redis,
        settings: Settings,
        *,
        maker: async_sessionmaker[AsyncSession] | None = None,
        model_name: str = DEFAULT_MODEL,
        params: dict[str, Any] | None = None,
        progress: Progress | None = None,
        task_id: str | None = None,
    ) -> TrainingResult:
        """Train, evaluate and publish, holding the training lease: never two at once.

        ``task_id`` names a Celery delivery, so a second delivery of a completed task is
        answered "duplicate" instead of training again."""

        async def train() -> TrainingResult:
            return await self._train_and_publish(
                redis,
                settings,
                maker=maker,
                model_name=model_name,
                params=params,
                progress=progress,
            )

        outcome = await run_leased(redis, LEASE, task_id, settings.task_lease_ttl_s, train)
        if outcome.status == "busy":
            return TrainingResult(
                status="busy", model_name=model_name, detail="another training is running"
            )
        if outcome.status == "duplicate":
            return TrainingResult(
                status="duplicate",
                model_name=model_name,
                detail="this training already completed",
            )
        result: TrainingResult = outcome.value
        return result

    async def _train_and_publish(
        self,
        redis: Redis,
        settings: Settings,
        *,
        maker: async_sessionmaker[AsyncSession] | None,
        model_name: str,
        params: dict[str, Any] | None,
        progress: Progress | None,
    ) -> TrainingResult:
        say = progress or (lambda message: logger.info(message))
        params = dict(
            DEFAULT_PARAMS if params is None and model_name == DEFAULT_MODEL else params or {}
        )
        seconds: dict[str, float] = {}
        started = time.perf_counter()
        export, live = await self._export_with_live(redis, maker)
        seconds["export"] = round(time.perf_counter() - started, 3)
        n_interactions = int(export.interactions["weight"].sum()) if len(export.interactions) else 0
        n_users = export.interactions["user_id"].nunique() if len(export.interactions) else 0
        say(f"exported {n_interactions} plays of {n_users} listeners")
        if n_users < MIN_USERS or len(export.interactions) < MIN_INTERACTIONS:
            return TrainingResult(
                status="skipped",
                model_name=model_name,
                n_users=n_users,
                n_interactions=n_interactions,
                detail="not enough listening data to train on yet",
            )
        dataset = dataset_from_export(export.interactions, export.item_tags, export.item_names)
        result = TrainingResult(
            status="rejected",
            model_name=model_name,
            n_users=dataset.interactions.n_users,
            n_items=dataset.interactions.n_items,
            n_interactions=n_interactions,
            live_version=live.version if live else None,
            version=new_version(model_name),
            seconds=seconds,
        )

        step = time.perf_counter()
        await self._evaluate_against_live(result, params, dataset, live)
        seconds["evaluate"] = round(time.perf_counter() - step, 3)
        say(_comparison(result))
        run_fields = _run_fields(result, params)
        if _worse_than_live(result):
            result.detail = "worse than the live model on the holdout; not published"
            async with session_scope(maker) as session:
                await training_repository.add_run(
                    session, status=ModelRunStatus.rejected, error=result.detail, **run_fields
                )
            say(result.detail)
            return result

        parts, scoring, artifact = await self._fit_and_score(
            result, params, dataset, settings, seconds
        )
        say(f"scored {len(parts['tracks'])} listeners")
        step = time.perf_counter()
        await self._publish(redis, maker, result, params, run_fields, parts, scoring, str(artifact))
        seconds["publish"] = round(time.perf_counter() - step, 3)
        result.status = "published"
        say(f"published version {result.version}")
        return result

    async def _export_with_live(
        self, redis: Redis, maker: async_sessionmaker[AsyncSession] | None
    ) -> tuple[Export, _LiveModel | None]:
        """The listening export and the live model's configuration (its ``model_runs`` row,
        or the latest published one when Redis names none)."""
        live_version = await store.live_version(redis)
        async with session_scope(maker) as session:
            export = await self.export(session)
            live_run = (
                await training_repository.run_by_version(session, live_version)
                if live_version
                else None
            ) or await training_repository.latest_published(session)
        if live_run is None:
            return export, None
        return export, _LiveModel(live_run.model_name, dict(live_run.params), live_run.version)

    async def _evaluate_against_live(
        self,
        result: TrainingResult,
        params: dict[str, Any],
        dataset: Dataset,
        live: _LiveModel | None,
    ) -> None:
        """The candidate's and the live configuration's metrics on the same holdout."""
        split = holdout_split(dataset.interactions, HOLDOUT_FRACTION, seed=SEED)
        result.metrics = await asyncio.to_thread(
            _evaluate, result.model_name, params, dataset, split
        )
        if live is not None:
            result.live_metrics = await asyncio.to_thread(
                _evaluate, live.model_name, live.params, dataset, split
            )

    async def _fit_and_score(
        self,
        result: TrainingResult,
        params: dict[str, Any],
        dataset: Dataset,
        settings: Settings,
        seconds: dict[str, float],
    ) -> tuple[dict[str, dict[str, Any]], bytes, Path]:
        """Fit on everything, build what the API serves and save the model's artifact."""
        step = time.perf_counter()
        model = make_model(result.model_name, **params)
        await asyncio.to_thread(_fit, model, dataset)
        genres = GenreSpace().fit(dataset.interactions.item_ids, dataset.all_item_tags())
        seconds["fit"] = round(time.perf_counter() - step, 3)
        step = time.perf_counter()
        parts, scoring = await asyncio.to_thread(build_publication, model, dataset, genres)
        artifact = Path(settings.data_dir) / "models" / f"{result.version}.npz"
        artifact.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(model.save, artifact)
        seconds["score"] = round(time.perf_counter() - step, 3)
        return parts, scoring, artifact

    async def _publish(
        self,
        redis: Redis,
        maker: async_sessionmaker[AsyncSession] | None,
        result: TrainingResult,
        params: dict[str, Any],
        run_fields: dict[str, Any],
        parts: dict[str, dict[str, Any]],
        scoring: bytes,
        artifact: str,
    ) -> None:
        """Record the run (trained), hydrate the track entries, publish to Redis under the
        new version, then mark the run published."""
        assert result.version is not None
        async with session_scope(maker) as session:
            run = await training_repository.add_run(
                session, status=ModelRunStatus.trained, artifact_path=artifact, **run_fields
            )
            track_ids = {
                uuid.UUID(entry["track_id"])
                for entries in parts["tracks"].values()
                for entry in entries
            }
            tracks = await tracks_repository.with_credits(session, list(track_ids))
        payloads = {str(track_id): track_payload(track) for track_id, track in tracks.items()}
        parts["tracks"] = _hydrated(parts["tracks"], payloads)
        await store.publish(
            redis,
            result.version,
            parts,
            {
                "model": result.model_name,
                "params": params,
                "metrics": result.metrics,
                "trained_at": datetime.now(UTC).isoformat(),
                "n_users": result.n_users,
                "n_items": result.n_items,
            },
            blobs={SCORING_BLOB: scoring},
        )
        async with session_scope(maker) as session:
            await training_repository.mark_published(session, run.id)


@dataclass(frozen=True, slots=True)
class _LiveModel:
    model_name: str
    params: dict[str, Any]
    version: str


def _comparison(result: TrainingResult) -> str:
    return f"holdout {COMPARE_METRIC}: candidate {result.metrics.get(COMPARE_METRIC, 0):.4f}" + (
        f", live {result.live_metrics.get(COMPARE_METRIC, 0):.4f}"
        if result.live_metrics
        else ", no live model"
    )


def _worse_than_live(result: TrainingResult) -> bool:
    if result.live_metrics is None:
        return False
    return result.metrics.get(COMPARE_METRIC, 0.0) < result.live_metrics.get(COMPARE_METRIC, 0.0)


def _run_fields(result: TrainingResult, params: dict[str, Any]) -> dict[str, Any]:
    """The ``model_runs`` columns of a candidate, whatever becomes of it."""
    live = {f"live_{k}": v for k, v in (result.live_metrics or {}).items()}
    return {
        "version": result.version,
        "model_name": result.model_name,
        "params": params,
        "metrics": {
            **result.metrics,
            **live,
            "holdout_fraction": HOLDOUT_FRACTION,
            "seed": SEED,
        },
        "n_users": result.n_users,
        "n_items": result.n_items,
        "n_interactions": result.n_interactions,
    }


def _hydrated(
    entries_by_user: dict[str, Any], payloads: dict[str, Any]
) -> dict[str, list[dict[str, Any]]]:
    """Track entries with the track itself instead of its id (tracks gone are left out)."""
    return {
        user_id: [
            {
                "track": payloads[entry["track_id"]],
                "score": entry["score"],
                "reason": entry["reason"],
                "reason_parts": entry["reason_parts"],
            }
            for entry in entries
            if entry["track_id"] in payloads
        ]
        for user_id, entries in entries_by_user.items()
    }


training_service = TrainingService()
