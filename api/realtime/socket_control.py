"""What the live channel needs from a WebSocket beyond ASGI: how many bytes are still waiting
to reach the peer, and a close frame that goes out even while writing is paused.

ASGI only lets an app ``send`` a frame and wait; a peer that stops reading makes that wait
last forever (the server pauses writing once its buffer is full), and a close frame sent
the ASGI way waits behind it. The server's own keepalive then closes such a peer with 1011
after its ping timeout. The live channel closes slow consumers itself, with 4408 once their
send budget is exceeded for a short while (docs/realtime.md), so it needs to see the bytes
buffered below it and to queue its close frame past the paused writer, which is what
uvicorn's keepalive does for its own 1011.

``SocketProbeMiddleware`` (outermost) records, for each WebSocket scope, the server's
connection object when it is uvicorn's sans-I/O WebSocket protocol (the default with the
``websockets`` library installed). With another server, ``control_for`` answers None and
the channel falls back to ASGI alone (a stalled peer then meets the server's keepalive).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import termios
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger(__name__)

SCOPE_KEY = "tunewave.ws_protocol"


class SocketProbeMiddleware:
    """Records the server's WebSocket connection in the scope and, unless ``compression``,
    declines per-message deflate: a room event is one text for every socket, and
    compressing it once per socket costs more CPU than everything else the fan-out does."""

    def __init__(self, app: ASGIApp, *, compression: bool = False) -> None:
        self.app = app
        self.compression = compression

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            protocol = getattr(send, "__self__", None)
            if _looks_like_uvicorn_sansio(protocol):
                scope[SCOPE_KEY] = protocol
                if not self.compression:
                    _decline_extensions(protocol)
        await self.app(scope, receive, send)


def _decline_extensions(protocol: Any) -> None:
    """Before the handshake answer goes out: no extension is agreed (the client then sends
    and expects plain frames, as the WebSocket protocol allows)."""
    if getattr(protocol, "handshake_complete", True):
        return
    response = getattr(protocol, "response", None)
    with contextlib.suppress(Exception):
        if response is not None and "Sec-WebSocket-Extensions" in response.headers:
            del response.headers["Sec-WebSocket-Extensions"]
            protocol.conn.extensions = []


def _looks_like_uvicorn_sansio(protocol: Any) -> bool:
    return (
        protocol is not None
        and hasattr(getattr(protocol, "transport", None), "get_write_buffer_size")
        and hasattr(getattr(protocol, "conn", None), "data_to_send")
        and hasattr(protocol, "close_sent")
    )


class SocketControl:
    """The transport below one accepted WebSocket."""

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol
        self._transport: asyncio.Transport = protocol.transport
        self._fileno: int | None = None
        with contextlib.suppress(Exception):
            sock = self._transport.get_extra_info("socket")
            if sock is not None:
                self._fileno = sock.fileno()

    def buffered_bytes(self) -> int:
        """Bytes written but not yet taken by the peer: the server's buffer plus the kernel's
        send queue (unsent and unacknowledged bytes)."""
        size = 0
        with contextlib.suppress(Exception):
            size = self._transport.get_write_buffer_size()
        if self._fileno is not None:
            with contextlib.suppress(OSError):
                buffer = fcntl.ioctl(self._fileno, termios.TIOCOUTQ, b"\0\0\0\0")
                size += int.from_bytes(buffer, "little", signed=True)
        return size

    def ready(self) -> bool:
        """True when frames may be written now (open, and the server is not holding writes
        back because the peer is not reading)."""
        protocol = self._protocol
        return (
            protocol.writable.is_set()
            and not protocol.close_sent
            and not self._transport.is_closing()
        )

    def write_texts(self, texts: list[str]) -> None:
        """Frame ``texts`` and hand them to the transport in one write: the fan-out's hot
        path, without the per-frame trip through the ASGI send chain."""
        conn = self._protocol.conn
        for text in texts:
            conn.send_text(text.encode())
        self._transport.write(b"".join(conn.data_to_send()))

    @property
    def closing(self) -> bool:
        return bool(self._protocol.close_sent) or self._transport.is_closing()

    def force_close(self, code: int, reason: str, *, abort_after_s: float) -> bool:
        """Queue a close frame behind what is already buffered, without waiting for the peer
        to read, then close the transport once it drains; cut it after ``abort_after_s``
        whatever happens (a peer that never reads never drains). False when the connection
        was already closing."""
        protocol, transport = self._protocol, self._transport
        if self.closing:
            return False
        try:
            protocol.stop_keepalive()
            protocol.conn.fail(code, reason)
            transport.write(b"".join(protocol.conn.data_to_send()))
            protocol.close_sent = True
            # A send blocked on the paused writer gives up instead of waiting for the peer.
            protocol.writable.set()
            transport.close()
        except Exception:
            logger.warning("could not close a live socket past its writer", exc_info=True)
            return False
        asyncio.get_running_loop().call_later(abort_after_s, transport.abort)
        return True


def control_for(scope: Scope) -> SocketControl | None:
    protocol = scope.get(SCOPE_KEY)
    if protocol is None:
        return None
    try:
        return SocketControl(protocol)
    except Exception:
        return None
