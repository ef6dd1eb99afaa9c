"""The application factory and its lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import DataError
from starlette.types import ASGIApp

from api.cached_reads import ReadCacheMiddleware
from api.core.cache import listen_for_invalidations
from api.core.config import Settings, get_settings
from api.core.db import dispose_engine, sessionmaker_for
from api.core.exceptions import ErrorBody, TuneWaveError, validation_field
from api.core.limits import BodySizeLimitMiddleware
from api.core.logging import configure_logging
from api.core.metrics import RequestContextMiddleware
from api.core.passwords import password_hasher
from api.core.redis import close_redis, redis_for
from api.core.redis_version import refuse_old_redis
from api.core.security_headers import SecurityHeadersMiddleware
from api.live.wire import frame_schemas
from api.ops.endpoints import router as ops_router
from api.realtime.hub import close_live_sockets, stop_hub
from api.realtime.shutdown import install_sigterm_hook
from api.realtime.socket_control import SocketProbeMiddleware
from api.spa import mount_spa

logger = logging.getLogger(__name__)


def _operation_id(route: APIRoute) -> str:
    # "rooms-create_room": readable names for the generated TypeScript client.
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}-{route.name}"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await refuse_old_redis(app.state.redis)
    invalidations = asyncio.create_task(listen_for_invalidations(app.state.redis))
    install_sigterm_hook(close_live_sockets, app.state.settings.shutdown_deadline_s)
    warm_routes(app)
    yield
    invalidations.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await invalidations
    await stop_hub()
    await close_redis()
    await dispose_engine()


def warm_routes(app: FastAPI) -> None:
    """Build every route's request handling now, before the process takes traffic.

    FastAPI builds it (field models, validators) on the first request that reaches each
    included router: about 0.3 s of blocked event loop here, paid by whoever comes first,
    e.g. a crowd reconnecting to a freshly deployed process. These are FastAPI internals
    (``effective_candidates`` of an included router): where a release has none, nothing is
    warmed and the first requests pay as before."""

    def walk(routes: Iterable[object]) -> int:
        built = 0
        for route in routes:
            candidates = getattr(route, "effective_candidates", None)
            if callable(candidates):
                built += 1 + walk(candidates())
            low_priority = getattr(route, "effective_low_priority_routes", None)
            if callable(low_priority):
                low_priority()
        return built

    try:
        built = walk(app.router.routes)
    except Exception:
        logger.warning("routes not warmed up", exc_info=True)
        return
    logger.debug("routes warmed up", extra={"routers": built})


class TuneWaveApp(FastAPI):
    """FastAPI with the security headers outside everything, Starlette's 500 page included."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeadersMiddleware(super().build_middleware_stack(), self.state.settings)

    def openapi(self) -> dict[str, Any]:
        """The document, with the live channel's frames as components (``ServerFrame``,
        ``ClientFrame``: api/live/wire.py), which no HTTP operation names."""
        if self.openapi_schema is None:
            schema = super().openapi()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, definition in frame_schemas().items():
                components.setdefault(name, definition)
        return super().openapi()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    app = TuneWaveApp(
        title="TuneWave API",
        version="0.1.0",
        summary="Listen together: rooms, live chat, synchronized playback, recommendations.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        # Any operation may meet a body it cannot decode or one over the size limit.
        responses={
            400: {"model": ErrorBody, "description": "Malformed request"},
            413: {"model": ErrorBody, "description": "Request body too large"},
        },
    )
    # What requests and the live channel use, from these settings (one source): api/deps.py
    # for REST, api/live/endpoints.py for the WebSocket and the hub.
    app.state.settings = settings
    app.state.sessionmaker = sessionmaker_for(settings)
    app.state.redis = redis_for(settings)
    app.state.password_hasher = password_hasher(settings)

    @app.exception_handler(TuneWaveError)
    async def tunewave_error_handler(request: Request, exc: TuneWaveError) -> JSONResponse:
        return JSONResponse(exc.body(), exc.status_code, headers=exc.headers)

    @app.exception_handler(DataError)
    async def data_error_handler(request: Request, exc: DataError) -> JSONResponse:
        # PostgreSQL refused a value the client sent (a NUL character in text, a number out
        # of range): the request is at fault, not the server. The unit of work rolled back.
        if "NUL" in str(exc.orig):
            message = "text must not contain NUL (\\x00) characters"
        else:
            message = "a value in the request cannot be stored"
        logger.info("request data refused by the database", extra={"error": str(exc.orig)})
        # Shaped like FastAPI's own 422s, which is what every operation documents.
        detail = [{"type": "value_error", "loc": ["request"], "msg": message}]
        return JSONResponse({"detail": detail, "code": "invalid_input"}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def validation_error_handler(
        request: Request, exc: RequestValidationError
    ) -> JSONResponse:
        # Pydantic errors may carry the offending input (bytes, exceptions); keep it JSON-safe.
        errors = [
            {key: value for key, value in error.items() if key in ("type", "loc", "msg")}
            for error in exc.errors()
        ]
        # `field` names the first field at fault (the SPA says which one, in its language).
        body: dict[str, object] = {"detail": errors, "code": "invalid_input"}
        field = validation_field(errors[0].get("loc")) if errors else None
        if field is not None:
            body["field"] = field
        return JSONResponse(body, status_code=422)

    # Innermost of ours: hot anonymous reads answered from Redis, still with CORS headers,
    # request ids, metrics and the body limit around them.
    app.add_middleware(ReadCacheMiddleware, settings=settings, redis=app.state.redis)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["X-Request-ID", "Retry-After"],
    )
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    # Outermost: it records the server's WebSocket connection for the live channel's send
    # budget and closes (api/realtime/socket_control.py), so it must see the server's send.
    app.add_middleware(SocketProbeMiddleware, compression=settings.ws_compression)

    app.include_router(ops_router)
    for router in _domain_routers():
        app.include_router(router)
    mount_spa(app)
    return app


def _domain_routers() -> list:
    from api.routers import ROUTERS

    return ROUTERS


app = create_app()
