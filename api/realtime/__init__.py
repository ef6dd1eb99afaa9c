"""The live room channel: sockets, presence and events between API processes (docs/realtime.md)."""
