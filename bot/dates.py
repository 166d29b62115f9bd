"""Dates and times in the user's language and the municipality's time zone."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_date, format_time

from core.clock import to_local


def day_label(moment: datetime, timezone: str, language: str) -> str:
    return format_date(to_local(moment, timezone), "EEEE d MMMM", locale=language)


def time_label(moment: datetime, timezone: str, language: str) -> str:
    return format_time(to_local(moment, timezone), "HH:mm", locale=language)


def when_label(moment: datetime, timezone: str, language: str) -> str:
    return f"{day_label(moment, timezone, language)}, {time_label(moment, timezone, language)}"
