"""A response whose body is JSON already serialised (a read-cache entry, a pre-built page)."""

from __future__ import annotations

from starlette.responses import Response


class JSONBytes(Response):
    media_type = "application/json"
