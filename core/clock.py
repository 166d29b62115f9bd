"""Time in one convention: aware UTC everywhere, the user's zone only on screen."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone))


def to_utc(local: datetime) -> datetime:
    return local.astimezone(UTC)
