from collections.abc import Iterator

import pytest

from api.discovery.graph import clear_cache
from tests.support.people import sign_in  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_graphs() -> Iterator[None]:
    """Each process keeps the published graph it loaded; tests publish their own."""
    clear_cache()
    yield
    clear_cache()
