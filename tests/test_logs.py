"""Logs: JSON lines on request, and nothing that identifies a person or a credential."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from lotse.logs import configure_logging


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_and_no_access_log_lines(restored_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", json_lines=True)
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "203.0.113.7:5123", "GET", "/api/chat/inbox?token=secret", "1.1", 200
    )
    logging.getLogger("bot.engine").info("replayed update channel=%s", "telegram")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["logger"] for line in lines] == ["bot.engine"]
    assert lines[0]["message"] == "replayed update channel=telegram" and lines[0]["level"] == "INFO"
