"""python-telegram-bot's HTTP on aiohttp: errors become the library's own."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from telegram.error import NetworkError, TimedOut

from bot.telegram.http import AiohttpRequest


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def request_() -> AsyncIterator[AiohttpRequest]:
    opened = AiohttpRequest(read_timeout=0.2)
    await opened.initialize()
    yield opened
    await opened.shutdown()


async def test_a_refused_connection_is_a_network_error(request_: AiohttpRequest) -> None:
    with pytest.raises(NetworkError):
        await request_.do_request(f"http://127.0.0.1:{_closed_port()}/botX/getMe", "POST")


async def test_a_server_that_never_answers_is_a_timeout(request_: AiohttpRequest) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(TimedOut):
            await request_.do_request(f"http://127.0.0.1:{port}/botX/getMe", "POST")
    finally:
        server.close()


async def test_unopened_it_refuses_to_send() -> None:
    with pytest.raises(RuntimeError):
        await AiohttpRequest().do_request("http://127.0.0.1:1/botX/getMe", "POST")
