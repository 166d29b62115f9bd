"""The load benchmark's HTTP client: answers, kept-alive connections, and failures as the
exceptions a caller of any HTTP client expects."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import pytest

from bench.http import JsonClient

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _serve(handler: Handler) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    return await reader.readexactly(length)


def test_json_answers_come_back_over_one_kept_alive_connection() -> None:
    connections = 0

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while not reader.at_eof():
            try:
                body = await _read_request(reader)
            except asyncio.IncompleteReadError:
                break
            answer = b'{"got": ' + body + b"}"
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer))
            await writer.drain()
        writer.close()

    async def scenario() -> list[tuple[int, object]]:
        server, url = await _serve(echo)
        async with server, JsonClient(timeout=5) as client:
            return [await client.post(url + "/x", {"n": n, "text": "Grüße"}) for n in range(3)]

    answers = asyncio.run(scenario())
    assert answers == [(200, {"got": {"n": n, "text": "Grüße"}}) for n in range(3)]
    assert connections == 1


def test_an_answer_without_json_is_none_and_its_status_is_kept() -> None:
    async def plain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nbusy")
        await writer.drain()

    async def scenario() -> tuple[int, object]:
        server, url = await _serve(plain)
        async with server, JsonClient(timeout=5) as client:
            return await client.post(url + "/x", {})

    assert asyncio.run(scenario()) == (503, None)


def test_a_refused_connection_is_a_connection_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def scenario() -> None:
        async with JsonClient(timeout=5) as client:
            await client.post(f"http://127.0.0.1:{port}/x", {})

    with pytest.raises(ConnectionError):
        asyncio.run(scenario())


def test_a_connection_closed_before_the_answer_is_a_connection_reset() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.close()  # like a process killed mid-request

    async def scenario() -> None:
        server, url = await _serve(hang_up)
        async with server, JsonClient(timeout=5) as client:
            await client.post(url + "/x", {})

    with pytest.raises(ConnectionResetError):
        asyncio.run(scenario())


def test_no_answer_in_time_is_a_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await asyncio.sleep(5)

    async def scenario() -> None:
        server, url = await _serve(silent)
        async with server, JsonClient(timeout=0.2) as client:
            await client.post(url + "/x", {})

    with pytest.raises(TimeoutError):
        asyncio.run(scenario())
