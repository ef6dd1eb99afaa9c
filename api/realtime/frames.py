"""Client frames of the live channel: parsed and bounded before anything acts on them.

Every frame is one JSON object. Parsing refuses what is not plain JSON (``NaN``,
``Infinity``, nesting deep enough to exhaust the parser) and each frame type is a pydantic
model whose every number is bounded, so nothing out of range reaches PostgreSQL (a ``bigint``
``after_seq``, an ``integer`` ``position_ms``) or goes back out as invalid JSON (a ``pong``
echoing ``t0``). A refusal is a :class:`FrameError`, which the channel answers with
``bad_frame`` (docs/realtime.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from api.realtime.schemas import (
    BIGINT_MAX,
    INT_MAX,
    SAFE_INTEGER_MAX,
    ClientFrameModel,
    PingFrame,
    ResumeFrame,
)

__all__ = [
    "BIGINT_MAX",
    "INT_MAX",
    "MAX_DEPTH",
    "SAFE_INTEGER_MAX",
    "FrameError",
    "PingFrame",
    "ResumeFrame",
    "frame_dict",
    "parse_frame",
]

# Containers a frame may nest. The deepest real frame is an object holding scalars.
MAX_DEPTH = 8


class FrameError(ValueError):
    """A client frame that cannot be acted on; ``detail`` says why."""

    def __init__(self, detail: str, client_id: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        # A refused chat frame's client_id, so the sender can tell which message it was.
        self.client_id = client_id


def _refuse_constant(name: str) -> Any:
    raise FrameError(f"{name} is not JSON")


def _too_deep(raw: str) -> bool:
    """Whether brackets nest deeper than MAX_DEPTH outside strings (checked before parsing,
    so no input makes the parser recurse)."""
    depth = 0
    in_string = escaped = False
    for char in raw:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def parse_frame(
    raw: str,
    models: Mapping[str, type[ClientFrameModel]],
    untyped: str | None = None,
) -> ClientFrameModel:
    """The validated frame in ``raw``, as the model ``models`` names for its ``type`` (a
    frame without one is ``untyped``, when it carries ``text``); :class:`FrameError` for
    anything else. The channel's models are ``api/live/wire.py``'s."""
    if _too_deep(raw):
        raise FrameError(f"frame nests deeper than {MAX_DEPTH} levels")
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except FrameError:
        raise
    except (ValueError, RecursionError) as exc:
        raise FrameError("not JSON") from exc
    if not isinstance(data, dict):
        raise FrameError("a frame is a JSON object")
    kind = data.get("type", untyped if "text" in data else None)
    model = models.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise FrameError(f"unknown frame type {str(kind)[:64]!r}")
    try:
        return model.model_validate({**data, "type": kind})
    except ValidationError as exc:
        if model.refusal is not None:
            raise FrameError(model.refusal) from exc
        client_id = data.get("client_id")
        raise FrameError(
            "; ".join(_describe(error) for error in exc.errors()),
            client_id if isinstance(client_id, str) and len(client_id) <= 256 else None,
        ) from exc


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()))
    return f"{where}: {error.get('msg')}" if where else str(error.get("msg"))


def frame_dict(frame: ClientFrameModel) -> dict[str, Any]:
    """The frame as the channel's workers take it (absent optional fields left out)."""
    return frame.model_dump(exclude_none=True)
