"""The live channel's edge over the domains: the WebSocket endpoint, the typed frame unions
(``wire.py``) and the hub's view of the rooms (``rooms.py``). The transport underneath,
``api/realtime``, imports no domain code (docs/realtime.md, "How it is built")."""
