"""An app's sessions, Redis client and password hashing come from the settings it was
created with (``app.state``), for REST and the live channel alike (issue 13)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import routing

from api.core.config import Settings
from api.main import create_app


def test_the_apps_resources_follow_its_settings(settings: Settings) -> None:
    database_url = settings.require_database_url().rsplit("/", 1)[0] + "/elsewhere"
    app = create_app(
        settings.model_copy(
            update={
                "database_url": database_url,
                "redis_url": "redis://127.0.0.1:6390/7",
                "argon2_time_cost": 2,
                "argon2_memory_kib": 2048,
            }
        )
    )
    engine = app.state.sessionmaker.kw["bind"]
    assert engine.url.database == "elsewhere"
    redis_kwargs = app.state.redis.connection_pool.connection_kwargs
    assert (redis_kwargs["port"], redis_kwargs["db"]) == (6390, 7)
    assert (app.state.password_hasher.time_cost, app.state.password_hasher.memory_cost) == (
        2,
        2048,
    )


def test_apps_with_the_same_settings_share_one_pool(settings: Settings) -> None:
    first, second = create_app(settings), create_app(settings.model_copy())
    assert first.state.sessionmaker is second.state.sessionmaker
    assert first.state.redis is second.state.redis


async def test_every_routes_request_handling_is_built_before_the_first_request(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    build = routing._EffectiveRouteContext.from_api_route.__func__  # type: ignore[attr-defined]

    def counting(cls: type, **kwargs: Any) -> Any:
        built.append(kwargs["original_route"].path)
        return build(cls, **kwargs)

    monkeypatch.setattr(routing._EffectiveRouteContext, "from_api_route", classmethod(counting))
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        warmed = len(built)
        # The first requests to reach the routes build nothing more...
        for path in ("/healthz", f"/chat/{uuid.uuid4()}", f"/rooms/{uuid.uuid4()}"):
            await client.get(path)
        assert len(built) == warmed
    # ...because the lifespan built every operation of every included router.
    operations = sum(len(methods) for methods in app.openapi()["paths"].values())
    assert warmed >= operations - 1  # all but the app's own "/"
