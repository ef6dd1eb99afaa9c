from tests.fakes.fixtures import (  # noqa: F401
    fake_google,
    fake_google_server,
    fake_spotify,
    fake_spotify_server,
)
from tests.support.people import create_room, sign_in  # noqa: F401
