"""The demo room's clock, as a pure plan: what plays now after any time away."""

from __future__ import annotations

import uuid

from api.models import QueueEntryStatus
from api.playback.repository import DemoEntry
from api.playback.service import plan_demo_move

MINUTE = 60_000


def entry(minutes: int, *, playlist: bool = True, status: str = "queued") -> DemoEntry:
    return DemoEntry(uuid.uuid4(), minutes * MINUTE, QueueEntryStatus(status), playlist)


def test_the_next_queued_entry_plays_when_its_time_has_not_run_out() -> None:
    current, first, second = entry(3, status="playing"), entry(4), entry(5)
    plan = plan_demo_move([current, first, second], current.entry_id, 0, 2 * MINUTE)
    assert (plan.target, plan.start_ms, plan.passed, plan.wrapped) == (first, 0, [], False)


def test_entries_that_ended_while_nobody_looked_are_passed_over() -> None:
    first, second, third = entry(4), entry(5), entry(6)
    plan = plan_demo_move([first, second, third], None, 0, 10 * MINUTE)
    assert plan.target is third
    assert plan.start_ms == 9 * MINUTE
    assert plan.passed == [first.entry_id, second.entry_id]
    assert not plan.wrapped


def test_the_playlist_loops_as_many_times_as_the_time_away_holds() -> None:
    member_track = entry(2, playlist=False)
    a, b = entry(4, status="played"), entry(6, status="played")
    # 2 min of the member's track, then 100 min: 10 loops of the 10-minute playlist, and 5
    # minutes into the eleventh: b, which started 4 minutes into that loop.
    plan = plan_demo_move([a, b, member_track], None, 0, 2 * MINUTE + 105 * MINUTE)
    assert plan.wrapped
    assert plan.passed == [member_track.entry_id]
    assert plan.target is b
    assert plan.start_ms == 2 * MINUTE + 104 * MINUTE
    assert plan.cycle == [a, b]


def test_nothing_to_play_when_the_queue_is_done_and_no_playlist() -> None:
    done = entry(3, playlist=False, status="played")
    plan = plan_demo_move([done], None, 0, MINUTE)
    assert plan.target is None
    assert not plan.wrapped
