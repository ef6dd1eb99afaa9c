"""Domain errors. Services raise these; one handler turns them into ``{"detail": ...}``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    detail: Any


class TuneWaveError(Exception):
    status_code: int = 400
    headers: dict[str, str] | None = None

    def __init__(
        self,
        detail: Any = None,
        *,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.detail = detail if detail is not None else self.__class__.__doc__ or "error"
        if status_code is not None:
            self.status_code = status_code
        if headers is not None:
            self.headers = headers
        super().__init__(self.detail)


class BadRequest(TuneWaveError):
    """Bad request."""

    status_code = 400


class Unauthorized(TuneWaveError):
    """Not authenticated."""

    status_code = 401

    def __init__(self, detail: Any = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(TuneWaveError):
    """Not allowed."""

    status_code = 403


class NotFound(TuneWaveError):
    """Not found."""

    status_code = 404


class Conflict(TuneWaveError):
    """Conflict."""

    status_code = 409


class Unprocessable(TuneWaveError):
    """Unprocessable."""

    status_code = 422


class TooManyRequests(TuneWaveError):
    """Too many requests."""

    status_code = 429

    def __init__(self, detail: Any = None, *, retry_after_s: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after_s))})
        self.retry_after_s = retry_after_s


class UpstreamError(TuneWaveError):
    """An outside provider failed or did not answer."""

    status_code = 502


def error_responses(*errors: type[TuneWaveError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for the errors an endpoint can raise."""
    return {
        error.status_code: {"description": error.__doc__ or "", "model": ErrorBody}
        for error in errors
    }
