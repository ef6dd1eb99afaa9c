from tests.queue.conftest import join, tracks
from tests.support.people import create_room, sign_in

__all__ = ["create_room", "join", "sign_in", "tracks"]
