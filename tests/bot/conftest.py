"""Fixtures of the channel tests: a fake Telegram, one service per module, live servers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from core.settings import Role, Settings
from bench.fake_telegram import FakeTelegram
from tests.database import drop_database, fresh_database

WEBHOOK_SECRET = "s3cr3t-Token_for-the-webhook-0123456789"


@pytest.fixture(scope="module")
def module_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, name = fresh_database(tmp_path_factory.mktemp("bot-db"))
    yield url
    drop_database(name)


@pytest.fixture(scope="module")
def fake_telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


def channel_settings(
    data_dir: Path, database_url: str, nlu_model_path: Path, fake: FakeTelegram | None, **extra: Any
) -> Settings:
    telegram: dict[str, Any] = {}
    if fake is not None:
        telegram = {
            "telegram_token": SecretStr(fake.token),
            "telegram_webhook_secret": SecretStr(WEBHOOK_SECRET),
            "telegram_api_url": fake.api_url,
            # Above any test's pace: the last reply of an update always comes back as the
            # webhook's answer (tests that need the Bot API path switch the budget off).
            "telegram_max_rate": 10_000,
        }
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        nlu_model_path=nlu_model_path,
        role=Role.WEB,  # no scheduler: nothing is sent behind the tests' backs
        **{**telegram, **extra},
    )


@pytest.fixture(scope="module")
def module_settings(
    tmp_path_factory: pytest.TempPathFactory, module_database: str, nlu_model_path: Path,
    fake_telegram: FakeTelegram,
) -> Settings:
    return channel_settings(tmp_path_factory.mktemp("bot-data"), module_database, nlu_model_path, fake_telegram)


@pytest.fixture(scope="module")
def module_lotse(module_settings: Settings):  # type: ignore[no-untyped-def]
    """One assembled service per test module (content + NLU load once); tests use own chats."""
    from lotse.app import build

    built = build(module_settings)
    yield built
    built.db.dispose()


@pytest.fixture(scope="module")
def web_settings(
    tmp_path_factory: pytest.TempPathFactory, module_database: str, nlu_model_path: Path
) -> Settings:
    """A web-only service (no Telegram) on the module's database."""
    return channel_settings(tmp_path_factory.mktemp("web-data"), module_database, nlu_model_path, None)


@pytest.fixture(scope="module")
def web_lotse(web_settings: Settings):  # type: ignore[no-untyped-def]
    from lotse.app import build

    built = build(web_settings)
    yield built
    built.db.dispose()


@pytest.fixture(scope="module")
def web_server(web_settings: Settings, web_lotse: Any) -> Iterator[LiveServer]:
    from lotse.app import create_app

    with LiveServer(create_app(web_settings, web_lotse)) as live:
        yield live


class LiveServer:
    """uvicorn serving an app in a daemon thread on a free port of 127.0.0.1."""

    def __init__(self, app: Any) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self._sock = sock
        self.server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2)
        )
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("live server did not answer /health")

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
