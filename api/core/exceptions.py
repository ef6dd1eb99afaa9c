"""Domain errors. Services raise these; one handler turns them into
``{"detail": ..., "code": ...}`` (plus ``retry_after_s`` on 429, ``field`` on invalid input).

``detail`` is English for people reading logs and API clients; ``code`` is the stable,
machine-readable reason (snake_case) that clients translate. Every class has a default code;
raise sites a user actually meets pass a specific one (``NotFound("room not found",
code="room_not_found")``). The codes are listed in docs/api-errors.md.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    detail: Any
    code: str
    retry_after_s: int | None = None
    field: str | None = None


class TuneWaveError(Exception):
    status_code: int = 400
    code: str = "error"
    headers: dict[str, str] | None = None
    field: str | None = None

    def __init__(
        self,
        detail: Any = None,
        *,
        code: str | None = None,
        field: str | None = None,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.detail = detail if detail is not None else self.__class__.__doc__ or "error"
        if code is not None:
            self.code = code
        if field is not None:
            self.field = field
        if status_code is not None:
            self.status_code = status_code
        if headers is not None:
            self.headers = headers
        super().__init__(self.detail)

    def body(self) -> dict[str, Any]:
        """The JSON error body: ``detail`` and ``code``, plus ``field`` / ``retry_after_s``."""
        body: dict[str, Any] = {"detail": self.detail, "code": self.code}
        if self.field is not None:
            body["field"] = self.field
        retry_after_s = getattr(self, "retry_after_s", None)
        if retry_after_s is not None:
            body["retry_after_s"] = retry_after_s
        return body


class BadRequest(TuneWaveError):
    """Bad request."""

    status_code = 400
    code = "bad_request"


class Unauthorized(TuneWaveError):
    """Not authenticated."""

    status_code = 401
    code = "not_authenticated"

    def __init__(self, detail: Any = None, *, code: str | None = None) -> None:
        super().__init__(detail, code=code, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(TuneWaveError):
    """Not allowed."""

    status_code = 403
    code = "forbidden"


class NotFound(TuneWaveError):
    """Not found."""

    status_code = 404
    code = "not_found"


class Conflict(TuneWaveError):
    """Conflict."""

    status_code = 409
    code = "conflict"


class Unprocessable(TuneWaveError):
    """Unprocessable."""

    status_code = 422
    code = "invalid_input"


class TooManyRequests(TuneWaveError):
    """Too many requests."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, detail: Any = None, *, retry_after_s: int, code: str | None = None) -> None:
        retry_after_s = max(1, int(retry_after_s))
        super().__init__(detail, code=code, headers={"Retry-After": str(retry_after_s)})
        self.retry_after_s = retry_after_s


class UpstreamError(TuneWaveError):
    """An outside provider failed or did not answer."""

    status_code = 502
    code = "upstream_unavailable"


# Codes for errors raised by the framework rather than by our services.
HTTP_STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    502: "upstream_unavailable",
    503: "unavailable",
}


def status_code_name(status_code: int) -> str:
    """The default ``code`` for an HTTP status (framework errors, middleware refusals)."""
    if status_code in HTTP_STATUS_CODES:
        return HTTP_STATUS_CODES[status_code]
    return "server_error" if status_code >= 500 else "error"


def validation_field(loc: Any) -> str | None:
    """The field a validation error is about: the last name in its ``loc``, without the
    ``body``/``path``/``query`` prefix and list indexes (``["body", "genres", 2]`` → ``genres``)."""
    if not isinstance(loc, list | tuple):
        return None
    names = [part for part in loc if isinstance(part, str)]
    if names and names[0] in ("body", "path", "query", "header", "cookie"):
        names = names[1:]
    return names[-1] if names else None


def error_responses(*errors: type[TuneWaveError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for the errors an endpoint can raise."""
    return {
        error.status_code: {"description": error.__doc__ or "", "model": ErrorBody}
        for error in errors
    }
