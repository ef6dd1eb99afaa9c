"""Server-authoritative synchronized playback (docs/realtime.md)."""
