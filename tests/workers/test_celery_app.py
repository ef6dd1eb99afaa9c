"""The Celery configuration and the shared task policy."""

from __future__ import annotations

import ssl

import pytest

from api.core.redis import redis_ssl_options
from tests.conftest import TEST_REDIS_URL
from workers.base import TransientError, TuneWaveTask
from workers.celery_app import app


def test_broker_and_backend_are_the_redis_url() -> None:
    assert app.conf.broker_url == TEST_REDIS_URL
    assert app.conf.result_backend == TEST_REDIS_URL


def test_tasks_survive_a_dying_worker_and_speak_json() -> None:
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    # A lost worker's task comes back within a minute (visibility timeout + one restore
    # sweep); tasks that run longer than the timeout hold a lease (api/core/lease.py).
    options = conf.broker_transport_options
    assert options["visibility_timeout"] + options["unacked_restore_interval"] <= 60
    assert options["unacked_restore_throttle"] == 1


def test_every_scheduled_task_is_registered() -> None:
    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule
    assert "heartbeat" in schedule
    for entry in schedule.values():
        assert entry["task"] in app.tasks, entry["task"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://127.0.0.1:6379/0", None),
        # Heroku's URL as it comes: self-signed certificate, no ssl_cert_reqs.
        ("rediss://:secret@ec2.example.com:6380", {"ssl_cert_reqs": ssl.CERT_NONE}),
        ("rediss://h:6380/0?ssl_cert_reqs=required", {"ssl_cert_reqs": ssl.CERT_REQUIRED}),
        ("rediss://h:6380/0?ssl_cert_reqs=CERT_OPTIONAL", {"ssl_cert_reqs": ssl.CERT_OPTIONAL}),
    ],
)
def test_rediss_urls_get_tls_options(url: str, expected: dict[str, int] | None) -> None:
    assert redis_ssl_options(url) == expected


calls: list[str] = []


@app.task(base=TuneWaveTask, name="tests.flaky_then_fine")
def flaky_then_fine(failures: int) -> int:
    calls.append("flaky")
    if len(calls) <= failures:
        raise TransientError("the provider hiccuped")
    return len(calls)


@app.task(base=TuneWaveTask, name="tests.broken_input")
def broken_input() -> None:
    calls.append("broken")
    raise ValueError("bad data is not retried")


@pytest.fixture(autouse=True)
def _fresh_calls() -> None:
    calls.clear()


def test_transient_failures_are_retried_until_success() -> None:
    result = flaky_then_fine.apply(args=(2,))
    assert result.successful()
    assert result.get() == 3
    assert calls == ["flaky"] * 3


def test_other_failures_are_not_retried() -> None:
    result = broken_input.apply()
    assert result.failed()
    assert isinstance(result.result, ValueError)
    assert calls == ["broken"]


def test_retries_back_off_with_jitter_and_a_cap() -> None:
    assert TuneWaveTask.retry_jitter is True
    assert TuneWaveTask.retry_backoff
    assert TuneWaveTask.retry_backoff_max <= 600
    assert TuneWaveTask.max_retries is not None


def test_history_enrichment_and_training_are_scheduled() -> None:
    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule
    assert schedule["history-import"]["schedule"] == 15 * 60
    assert schedule["genre-enrichment"]["schedule"] == 60 * 60
    assert schedule["genre-graph"]["schedule"] == 60 * 60
    nightly = schedule["training"]["schedule"]
    assert nightly.hour == {3}
    assert nightly.minute == {30}
    for name in (
        "workers.history_import.import_spotify_history",
        "workers.genre_enrichment.enrich_genres",
        "workers.genre_graph.build_genre_graph",
        "workers.training.train_recommender",
    ):
        task = app.tasks[name]
        assert task.time_limit is not None
        assert task.soft_time_limit < task.time_limit
        assert task.max_retries is not None
