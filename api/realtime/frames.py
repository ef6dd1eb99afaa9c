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
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# PostgreSQL's bigint: chat seqs; integer: playback versions and positions.
BIGINT_MAX = 2**63 - 1
INT_MAX = 2**31 - 1
# JavaScript's exact integers: a clock reading the client can echo back faithfully.
SAFE_INTEGER_MAX = 2**53 - 1
# Containers a frame may nest. The deepest real frame is an object holding scalars.
MAX_DEPTH = 8
PLAYBACK_ACTIONS = frozenset({"play", "pause", "seek", "skip"})


class FrameError(ValueError):
    """A client frame that cannot be acted on; ``detail`` says why."""

    def __init__(self, detail: str, client_id: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        # A refused chat frame's client_id, so the sender can tell which message it was.
        self.client_id = client_id


class _Frame(BaseModel):
    # Unknown fields are ignored: clients may add their own bookkeeping to a frame.
    model_config = ConfigDict(extra="ignore", frozen=True)


class ChatFrame(_Frame):
    type: Literal["chat"] = "chat"
    # Length and content rules are the chat service's (api/chat/schemas.py MessageCreate).
    text: Annotated[str, Field(strict=True, max_length=16 * 1024)]
    client_id: Annotated[str, Field(strict=True, max_length=256)] | None = None


class PingFrame(_Frame):
    type: Literal["ping"]
    t0: Annotated[
        float,
        Field(strict=True, allow_inf_nan=False, ge=-SAFE_INTEGER_MAX, le=SAFE_INTEGER_MAX),
    ]


class ResumeFrame(_Frame):
    type: Literal["resume"]
    after_seq: Annotated[int, Field(strict=True, ge=0, le=BIGINT_MAX)]


class PlaybackFrame(_Frame):
    type: Literal["play", "pause", "seek", "skip"]
    version: Annotated[int, Field(strict=True, ge=0, le=INT_MAX)] | None = None
    position_ms: Annotated[int, Field(strict=True, ge=0, le=INT_MAX)] | None = None


ClientFrame = ChatFrame | PingFrame | ResumeFrame | PlaybackFrame

_MODELS: dict[str, type[_Frame]] = {
    "chat": ChatFrame,
    "ping": PingFrame,
    "resume": ResumeFrame,
    **dict.fromkeys(PLAYBACK_ACTIONS, PlaybackFrame),
}
_MESSAGES = {
    "ping": "ping needs a finite numeric t0 (|t0| < 2^53)",
    "resume": "resume needs an integer after_seq, 0 <= after_seq < 2^63",
}


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


def parse_frame(raw: str) -> ClientFrame:
    """The validated frame in ``raw``; :class:`FrameError` for anything else."""
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
    kind = data.get("type", "chat" if "text" in data else None)
    model = _MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise FrameError(f"unknown frame type {str(kind)[:64]!r}")
    try:
        frame = model.model_validate({**data, "type": kind})
    except ValidationError as exc:
        if kind in _MESSAGES:
            raise FrameError(_MESSAGES[kind]) from exc
        client_id = data.get("client_id")
        raise FrameError(
            "; ".join(_describe(error) for error in exc.errors()),
            client_id if isinstance(client_id, str) and len(client_id) <= 256 else None,
        ) from exc
    return frame  # type: ignore[return-value]


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()))
    return f"{where}: {error.get('msg')}" if where else str(error.get("msg"))


def frame_dict(frame: ClientFrame) -> dict[str, Any]:
    """The frame as the channel's workers take it (absent optional fields left out)."""
    return frame.model_dump(exclude_none=True)
