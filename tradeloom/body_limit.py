"""Refuse request bodies over the configured size with 413, before any of it is parsed or stored."""

import re
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradeloom.errors import problem_response


class BodySizeLimitMiddleware:
    """Checks ``Content-Length`` up front and counts streamed (chunked) bodies as they arrive.

    A streamed body that grows past the limit raises a 413 ``HTTPException`` from ``receive``; FastAPI
    lets HTTPExceptions through its body parsing, so it reaches the problem+json handler.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, larger_for: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # path pattern → its own limit (bulk APIs and file uploads take big bodies)
        self.larger_for = [(path_pattern(pattern), limit) for pattern, limit in (larger_for or {}).items()]

    def _limit(self, path: str) -> int:
        return next((limit for pattern, limit in self.larger_for if pattern.fullmatch(path)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self._limit(scope.get("path", ""))
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
            response = problem_response(
                status=413, code="payload_too_large", title="Payload too large",
                detail=self._detail(max_bytes), instance=scope.get("path"),
            )
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise HTTPException(413, self._detail(max_bytes))
            return message

        await self.app(scope, counting_receive, send)

    @staticmethod
    def _detail(max_bytes: int) -> str:
        return f"Request bodies are limited to {max_bytes} bytes."


def path_pattern(pattern: str) -> re.Pattern[str]:
    """``/api/v1/things/*/files`` matches one path segment per ``*``; a trailing ``/**`` matches any rest."""
    rest = pattern.endswith("/**")
    parts = (pattern[:-3] if rest else pattern).split("*")
    return re.compile("[^/]+".join(map(re.escape, parts)) + ("/.*" if rest else ""))
