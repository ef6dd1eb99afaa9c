from __future__ import annotations

import asyncio
import hmac
import logging

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text
from starlette.datastructures import State

from api.core.redis_version import RedisVersionError, check_redis_version

logger = logging.getLogger(__name__)

# Open router: no login, no database session per request.
router = APIRouter(tags=["ops"])

READY_TIMEOUT_S = 2.0


class HealthResponse(BaseModel):
    status: str


class ReadyResponse(BaseModel):
    status: str
    checks: dict[str, str]


async def _check_database(state: State) -> None:
    async with state.sessionmaker() as session:
        await session.execute(text("SELECT 1"))


async def _check_redis(state: State) -> None:
    # INFO answers like PING does, and tells whether the server is new enough.
    await check_redis_version(state.redis)


@router.get("/healthz", operation_id="healthz")
async def healthz() -> HealthResponse:
    """The process is up."""
    return HealthResponse(status="ok")


@router.get(
    "/readyz",
    operation_id="readyz",
    responses={503: {"model": ReadyResponse, "description": "A dependency is down"}},
)
async def readyz(request: Request, response: Response) -> ReadyResponse:
    """PostgreSQL and Redis answer and Redis is new enough; 503 names the part that is not
    (for a too-old Redis: the version found and the one needed)."""
    checks: dict[str, str] = {}
    for name, check in (("database", _check_database), ("redis", _check_redis)):
        try:
            await asyncio.wait_for(check(request.app.state), READY_TIMEOUT_S)
            checks[name] = "ok"
        except RedisVersionError as exc:
            logger.error("readiness check failed", extra={"check": name, "error": str(exc)})
            checks[name] = f"error: {exc}"
        except Exception as exc:  # any failure means "not ready", never a 500
            logger.warning("readiness check failed", extra={"check": name, "error": repr(exc)})
            checks[name] = f"error: {type(exc).__name__}"
    ready = all(value == "ok" for value in checks.values())
    if not ready:
        response.status_code = 503
    return ReadyResponse(status="ok" if ready else "unavailable", checks=checks)


@router.get("/metrics", operation_id="metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    settings = request.app.state.settings
    if settings.metrics_token is not None:
        # Compared in constant time; the scraper sends `Authorization: Bearer <token>`.
        expected = f"Bearer {settings.metrics_token.get_secret_value()}".encode()
        given = request.headers.get("authorization", "").encode("latin-1", "replace")
        if not hmac.compare_digest(given, expected):
            return Response(
                '{"detail":"metrics need the bearer token (TUNEWAVE_METRICS_TOKEN)"}',
                status_code=401,
                media_type="application/json",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
