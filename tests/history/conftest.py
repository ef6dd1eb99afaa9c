from tests.fakes.fixtures import (  # noqa: F401
    fake_google,
    fake_google_server,
    fake_spotify,
    fake_spotify_server,
)
