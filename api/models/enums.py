from enum import StrEnum


class OAuthProvider(StrEnum):
    google = "google"
    spotify = "spotify"


class IdentityStatus(StrEnum):
    active = "active"
    # The provider refused our refresh token: the user must link again.
    revoked = "revoked"


class RoomRole(StrEnum):
    owner = "owner"
    dj = "dj"
    member = "member"


class QueuePolicy(StrEnum):
    owner = "owner"
    members = "members"


class QueueEntryStatus(StrEnum):
    queued = "queued"
    playing = "playing"
    played = "played"
    skipped = "skipped"


class ListeningSource(StrEnum):
    room = "room"
    spotify = "spotify"
    demo = "demo"


class ModelRunStatus(StrEnum):
    trained = "trained"
    published = "published"
    rejected = "rejected"
    failed = "failed"
