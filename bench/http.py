"""The simulated users' HTTP client: JSON POSTs over kept-alive HTTP/1.1 connections.

The load benchmark's simulated world shares the machine's two cores with the service it
measures, so every microsecond it spends is one the service cannot. aiohttp's client cost the
simulator about 0.35 ms of CPU per message (py-spy, 400 msg/s), a tenth of what the whole
machine spends on a message. This client does only what the simulator needs: POST a JSON
body to one of a few local servers, read status, content type and body. llhttp (httptools,
the parser uvicorn uses) reads the answers.

Failures surface as the exceptions a caller of any HTTP client expects: `ConnectionError`
(refused, reset, closed before the answer) and `TimeoutError`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Self
from urllib.parse import urlsplit

import httptools

# uvicorn closes a connection idle for 5 s; one taken just then fails. Browsers and Telegram
# retry such a request; here it would count as an error of the service, so none is reused so late.
KEEP_IDLE = 3.0


class _Connection(asyncio.Protocol):
    """One kept-alive connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        self._waiter: asyncio.Future[tuple[int, bytes, bytes]] | None = None
        self._content_type = b""
        self._body: list[bytes] = []

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectionError(f"malformed HTTP answer: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ConnectionResetError("connection closed before the answer"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"content-type":
            self._content_type = value

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        if not self.parser.should_keep_alive():
            self.close()
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(
                (self.parser.get_status_code(), self._content_type, b"".join(self._body))
            )

    # use
    def send(
        self, request: bytes, loop: asyncio.AbstractEventLoop
    ) -> asyncio.Future[tuple[int, bytes, bytes]]:
        assert self.transport is not None
        self._waiter = loop.create_future()
        self._content_type, self._body = b"", []
        self.transport.write(request)
        return self._waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _fail(self, exc: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)


class JsonClient:
    """POST JSON, get (status, decoded JSON or None). Use as `async with`."""

    def __init__(self, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self._idle: dict[tuple[str, int], list[_Connection]] = {}
        self._all: set[_Connection] = set()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        for connection in self._all:
            connection.close()
        self._all.clear()
        self._idle.clear()

    async def post(
        self, url: str, body: Any, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        payload = json.dumps(body, ensure_ascii=False).encode()
        head = [
            f"POST {parts.path or '/'} HTTP/1.1",
            f"Host: {host}:{port}",
            "Content-Type: application/json",
            f"Content-Length: {len(payload)}",
        ]
        head += [f"{name}: {value}" for name, value in (headers or {}).items()]
        request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload
        loop = asyncio.get_running_loop()
        connection = await self._connection(loop, host, port)
        answer = connection.send(request, loop)
        timer = loop.call_later(self.timeout, self._time_out, connection, answer)
        try:
            status, content_type, data = await answer
        except BaseException:
            connection.close()
            self._all.discard(connection)
            raise
        finally:
            timer.cancel()
        if connection.closed:
            self._all.discard(connection)
        else:
            connection.idle_since = loop.time()
            self._idle.setdefault((host, port), []).append(connection)
        decoded = (
            json.loads(data) if data and content_type.startswith(b"application/json") else None
        )
        return status, decoded

    async def _connection(
        self, loop: asyncio.AbstractEventLoop, host: str, port: int
    ) -> _Connection:
        idle = self._idle.get((host, port))
        while idle:
            connection = idle.pop()
            if not connection.closed and loop.time() - connection.idle_since < KEEP_IDLE:
                return connection
            connection.close()
            self._all.discard(connection)
        _transport, connection = await loop.create_connection(_Connection, host, port)
        self._all.add(connection)
        return connection

    @staticmethod
    def _time_out(connection: _Connection, answer: asyncio.Future[Any]) -> None:
        if not answer.done():
            answer.set_exception(TimeoutError("no answer in time"))
        connection.close()
