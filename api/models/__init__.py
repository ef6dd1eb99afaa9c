"""All ORM models live here, so domains never import each other in a circle."""

from api.models.base import Base
from api.models.catalog import Artist, ArtistGenre, Genre, Track, TrackArtist, TrackGenre
from api.models.chat import Message
from api.models.enums import (
    IdentityStatus,
    ListeningSource,
    ModelRunStatus,
    OAuthProvider,
    QueueEntryStatus,
    QueuePolicy,
    RoomRole,
)
from api.models.listening import ListeningEvent, ModelRun
from api.models.room import QueueEntry, Room, RoomGenre, RoomMember, RoomPlayback
from api.models.user import OAuthIdentity, User, UserGenre

__all__ = [
    "Artist",
    "ArtistGenre",
    "Base",
    "Genre",
    "IdentityStatus",
    "ListeningEvent",
    "ListeningSource",
    "Message",
    "ModelRun",
    "ModelRunStatus",
    "OAuthIdentity",
    "OAuthProvider",
    "QueueEntry",
    "QueueEntryStatus",
    "QueuePolicy",
    "Room",
    "RoomGenre",
    "RoomMember",
    "RoomPlayback",
    "RoomRole",
    "Track",
    "TrackArtist",
    "TrackGenre",
    "User",
    "UserGenre",
]
