"""A training worker dies mid-task (its pool child, or the whole worker): the task comes back,
takes over the dead run's lease instead of answering "busy", and publishes a model."""

from __future__ import annotations

import pytest

from tests.faults.harness import Stack
from tests.faults.scenarios import worker_killed_mid_training

# The first test of the suite also waits for the stack (servers, API processes, workers) to
# start, which takes minutes on a loaded 2-core machine.
pytestmark = pytest.mark.timeout(600)


async def test_a_training_whose_pool_child_is_killed_is_redelivered_and_completes(
    workers: Stack,
) -> None:
    result = await worker_killed_mid_training(workers, whole_worker=False, timeout_s=60)
    print(result.figures, result.busy_later)
    assert result.taken_over_by not in (0, result.killed_pid)
    assert len(result.published) == 1
    assert result.busy_answers == 0


async def test_a_training_whose_whole_worker_is_killed_is_redelivered_by_another(
    workers: Stack,
) -> None:
    # The visibility timeout is 4 s here (30 s by default): well within a minute.
    result = await worker_killed_mid_training(workers, whole_worker=True, timeout_s=60)
    print(result.figures, result.busy_later)
    assert result.taken_over_by not in (0, result.killed_pid)
    assert len(result.published) == 1
    assert result.busy_answers == 0
