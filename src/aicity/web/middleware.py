"""ASGI middleware of the web app: body and header size limits, security headers, HEAD."""

from __future__ import annotations

import json
from typing import Any

from aicity.web.settings import CSP, MAX_HEADER_BYTES, MAX_HEADERS_BYTES, SECURITY_HEADERS


class BodyLimit:
    """ASGI middleware: refuse request bodies over a limit, whether or not they declare a
    Content-Length, before the application reads them."""

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await _too_large(send, self.limit)
        if declared is None and scope.get("method") in ("POST", "PUT", "PATCH"):
            # A chunked body: read it first (at most the limit) and hand it on whole, so one over
            # the limit is a 413 here, not a parse error inside the route (FastAPI's 400).
            chunks: list[bytes] = []
            size = 0
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client went away
                size += len(message.get("body", b""))
                if size > self.limit:
                    return await _too_large(send, self.limit)
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    break
            body, handed = b"".join(chunks), False

            async def replay() -> Any:
                nonlocal handed
                if not handed:
                    handed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            return await self.app(scope, replay, send)
        seen = 0

        async def counted() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(send, self.limit)


class _TooLarge(Exception):
    pass


async def _too_large(send: Any, limit: int) -> None:
    await _json(send, 413, f"request body over {limit:,} bytes")


class HeaderLimit:
    """ASGI middleware: refuse requests whose headers are too large with 431, before the
    application sees them: one header (name and value) over `each` bytes, or all of them
    together over `total`. uvicorn's own limit depends on its HTTP parser; this one holds for
    any server and for the test client."""

    def __init__(self, app: Any, each: int = MAX_HEADER_BYTES, total: int = MAX_HEADERS_BYTES):
        self.app, self.each, self.total = app, each, total

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        size = 0
        for name, value in scope.get("headers") or []:
            one = len(name) + len(value)
            if one > self.each:
                shown = name.decode("latin-1")[:100]
                return await _json(send, 431, f"request header '{shown}' is over {self.each:,} bytes")
            size += one + 4  # ": " and CRLF, as on the wire
        if size > self.total:
            return await _json(send, 431, f"request headers are over {self.total:,} bytes in all")
        await self.app(scope, receive, send)


class SecurityHeaders:
    """ASGI middleware: the security headers (`SECURITY_HEADERS`, with the
    Content-Security-Policy `CSP`) on every HTTP response, pages, API and errors alike. A
    header the application set itself is kept."""

    def __init__(self, app: Any, headers: dict[str, str] | None = None):
        self.app = app
        raw = SECURITY_HEADERS | {"Content-Security-Policy": CSP} if headers is None else headers
        self.headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in raw.items()]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers") or []}
                message = dict(message, headers=[*(message.get("headers") or []), *((k, v) for k, v in self.headers if k not in present)])
            await send(message)

        await self.app(scope, receive, with_headers)


async def _json(send: Any, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class HeadAsGet:
    """ASGI middleware: a HEAD request is answered as its GET would be (status and headers,
    Content-Length included), without the body, as HTTP asks (RFC 9110, 9.3.2): link checkers
    and uptime monitors send HEAD, which the routes (GET only) would answer 405."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") != "HEAD":
            return await self.app(scope, receive, send)

        async def headers_only(message: Any) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body"):
                    return  # the GET's body is dropped piece by piece; the last piece ends the answer
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)
