from __future__ import annotations

from tests.rooms.conftest import CreateRoom, SignedIn, SignIn, create_room, sign_in

__all__ = ["CreateRoom", "SignIn", "SignedIn", "create_room", "sign_in"]
