from tests.fakes.fixtures import (  # noqa: F401
    fake_spotify,
    fake_spotify_server,
)
