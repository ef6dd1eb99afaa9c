"""The fan-out baseline: a minimal room broadcast server written with the `websockets` library.

    python bench/ws_baseline.py PORT

Clients connect to /room/<name>; a publisher connects to /publish and sends
``<room name>\\n<frame>``; the server hands the frame to every socket of that room with
``websockets.broadcast`` (no authentication, database, presence or queues).
"""

from __future__ import annotations

import asyncio
import sys
from collections import defaultdict

from websockets.asyncio.server import ServerConnection, broadcast, serve

rooms: dict[str, set[ServerConnection]] = defaultdict(set)


async def handler(websocket: ServerConnection) -> None:
    path = websocket.request.path if websocket.request else "/"
    if path == "/publish":
        async for message in websocket:
            room, _, frame = str(message).partition("\n")
            broadcast(rooms.get(room, ()), frame)
        return
    room = path.rsplit("/", 1)[-1]
    rooms[room].add(websocket)
    try:
        await websocket.wait_closed()
    finally:
        rooms[room].discard(websocket)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, max_queue=16, ping_interval=None) as server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(int(sys.argv[1])))
