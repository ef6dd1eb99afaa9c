"""Request body size limit: an oversized body is a 413 before any handler parses it."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.exceptions import status_code_name

DEFAULT_MAX_BODY_BYTES = 256 * 1024


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.max_body_bytes
            except ValueError:
                await self._reject(send, 400, "invalid Content-Length")
                return
            if too_large:
                await self._reject(send, 413, self._too_large_detail())
                return
        else:
            # A body without a declared length (chunked) is read up front, within the limit,
            # and replayed: rejecting it halfway through the handler's own read would surface
            # as the framework's parse error instead of a 413.
            body = bytearray()
            more_body = True
            while more_body:
                message = await receive()
                if message["type"] != "http.request":
                    return
                body += message.get("body", b"")
                more_body = message.get("more_body", False)
                if len(body) > self.max_body_bytes:
                    await self._reject(send, 413, self._too_large_detail())
                    return
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": bytes(body), "more_body": False}
                return await receive()

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)

    def _too_large_detail(self) -> str:
        return f"request body larger than {self.max_body_bytes} bytes"

    @staticmethod
    async def _reject(send: Send, status: int, detail: str) -> None:
        body = json.dumps({"detail": detail, "code": status_code_name(status)}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
