from collections.abc import Iterator

import pytest

from api.recommendations.scoring import clear_cache


@pytest.fixture(autouse=True)
def _fresh_scorers() -> Iterator[None]:
    """Scorers are cached per version in the process; tests reuse version names."""
    clear_cache()
    yield
    clear_cache()
