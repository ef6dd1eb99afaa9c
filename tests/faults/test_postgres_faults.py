"""PostgreSQL restarted under the API processes' pools: a reduced form of ``bench/faults.py``
(``--only postgres``)."""

from __future__ import annotations

import pytest

from tests.faults.harness import Stack
from tests.faults.scenarios import postgres_restart

pytestmark = pytest.mark.timeout(600)


async def test_the_first_requests_after_a_postgres_restart_all_succeed(stack: Stack) -> None:
    result = await postgres_restart(stack, posters=6, down_s=1.0)
    print(result.figures)
    # Every pooled connection died with the restart; none of them reached a request.
    assert result.statuses_after == {201: 12}
    assert result.missing_from_store == set()
