"""Client frame parsing and bounds (issue 12, items 8-10); the live test is in
tests/realtime/test_security_live.py."""

from __future__ import annotations

import pytest

from api.chat.schemas import ChatFrame
from api.live.wire import parse_frame
from api.playback.schemas import PlaybackCommandFrame
from api.realtime.frames import FrameError, frame_dict
from api.realtime.schemas import PingFrame, ResumeFrame


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("[" * 8000 + "]" * 8000, "nests deeper"),
        ('{"a": ' * 2000 + "1" + "}" * 2000, "nests deeper"),
        ("not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        ('{"type": "dance"}', "unknown frame type"),
        ('{"type": "resume", "after_seq": 9223372036854775808}', "after_seq"),
        ('{"type": "resume", "after_seq": -1}', "after_seq"),
        ('{"type": "resume", "after_seq": 1.5}', "after_seq"),
        ('{"type": "resume", "after_seq": true}', "after_seq"),
        ('{"type": "ping", "t0": 1e400}', "finite"),
        ('{"type": "ping", "t0": NaN}', "not JSON"),
        ('{"type": "ping", "t0": Infinity}', "not JSON"),
        ('{"type": "ping", "t0": "12"}', "finite"),
        ('{"type": "seek", "position_ms": 2147483648}', "position_ms"),
        ('{"type": "play", "version": 1e3}', "version"),
        ('{"text": 5, "client_id": "c-1"}', "text"),
    ],
)
def test_refused_frames_say_why(raw: str, why: str) -> None:
    with pytest.raises(FrameError) as refused:
        parse_frame(raw)
    assert why in refused.value.detail


def test_a_refused_chat_frame_keeps_its_client_id() -> None:
    with pytest.raises(FrameError) as refused:
        parse_frame('{"text": ["x"], "client_id": "c-9"}')
    assert refused.value.client_id == "c-9"


def test_valid_frames_parse_into_their_models() -> None:
    assert parse_frame('{"text": "hi", "client_id": "c"}') == ChatFrame(text="hi", client_id="c")
    assert parse_frame('{"type": "ping", "t0": 12.5, "extra": 1}') == PingFrame(
        type="ping", t0=12.5
    )
    resume = parse_frame('{"type": "resume", "after_seq": 9223372036854775807}')
    assert resume == ResumeFrame(type="resume", after_seq=2**63 - 1)
    seek = parse_frame('{"type": "seek", "position_ms": 1000, "version": 3}')
    assert isinstance(seek, PlaybackCommandFrame)
    assert frame_dict(seek) == {"type": "seek", "position_ms": 1000, "version": 3}
    # Brackets inside strings are text, not nesting.
    assert parse_frame('{"text": "' + "[" * 100 + '"}') == ChatFrame(text="[" * 100)
