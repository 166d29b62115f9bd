"""Date and time entities for booking, in the seven languages, plus resolving them to dates.

Values are independent of the day the message was parsed: "2025-03-14", "--03-14"
(no year given), "today" / "tomorrow" / "day_after_tomorrow", "weekday:mon", and "14:30".
The dialogue turns them into a calendar date with resolve_date().
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from nlu.normalisation import fold_for_matching
from nlu.result import Entity

WEEKDAYS: dict[str, tuple[str, ...]] = {
    "mon": (
        "montag",
        "monday",
        "pazartesi",
        "понедельник*",
        "понеділ*",
        "الاثنين",
        "الإثنين",
        "دوشنبه",
    ),
    "tue": (
        "dienstag",
        "tuesday",
        "salı",
        "вторник*",
        "вівтор*",
        "الثلاثاء",
        "سه شنبه",
        "سه‌شنبه",
        "سهشنبه",
    ),
    "wed": (
        "mittwoch",
        "wednesday",
        "çarşamba",
        "среда",
        "среду",
        "среды",
        "середа",
        "середу",
        "середи",
        "الأربعاء",
        "الاربعاء",
        "چهارشنبه",
        "چهار شنبه",
    ),
    "thu": (
        "donnerstag",
        "thursday",
        "perşembe",
        "четверг*",
        "четвер",
        "четверга",
        "четвергу",
        "الخميس",
        "پنجشنبه",
        "پنج شنبه",
        "پنج‌شنبه",
    ),
    "fri": ("freitag", "friday", "cuma", "пятниц*", "п'ятниц*", "пʼятниц*", "الجمعة", "جمعه"),
    "sat": ("samstag", "sonnabend", "saturday", "cumartesi", "суббот*", "субот*", "السبت", "شنبه"),
    "sun": (
        "sonntag",
        "sunday",
        "pazar",
        "воскресень*",
        "неділ*",
        "الأحد",
        "الاحد",
        "یکشنبه",
        "یک شنبه",
        "یک‌شنبه",
    ),
}
RELATIVE_DAYS: dict[str, tuple[str, ...]] = {
    "day_after_tomorrow": (
        "übermorgen",
        "day after tomorrow",
        "öbür gün",
        "yarından sonra",
        "послезавтра",
        "післязавтра",
        "بعد بكرا",
        "بعد بكرة",
        "بعد غد",
        "پس فردا",
        "پس‌فردا",
        "پسفردا",
    ),
    "tomorrow": ("morgen", "tomorrow", "yarın", "завтра", "بكرا", "بكرة", "غدا", "غداً", "فردا"),
    "today": ("heute", "today", "bugün", "сегодня", "сьогодні", "اليوم", "امروز"),
}
MONTHS: dict[int, tuple[str, ...]] = {
    1: (
        "januar",
        "jänner",
        "january",
        "ocak",
        "январ*",
        "січн*",
        "يناير",
        "كانون الثاني",
        "ژانویه",
    ),
    2: ("februar", "february", "şubat", "феврал*", "лют*", "فبراير", "شباط", "فوریه"),
    3: ("märz", "march", "mart", "март*", "берез*", "مارس", "آذار", "اذار"),
    4: ("april", "nisan", "апрел*", "квіт*", "أبريل", "ابريل", "نيسان", "آوریل"),
    5: ("mai", "may", "mayıs", "ма[ияю]", "травн*", "مايو", "أيار", "ايار", "مه"),
    6: ("juni", "june", "haziran", "июн*", "черв*", "يونيو", "حزيران", "ژوئن"),
    7: ("juli", "july", "temmuz", "июл*", "лип*", "يوليو", "تموز", "ژوئیه"),
    8: ("august", "ağustos", "август*", "серп*", "أغسطس", "اغسطس", "آب", "اوت"),
    9: ("september", "eylül", "сентябр*", "верес*", "سبتمبر", "أيلول", "ايلول", "سپتامبر"),
    10: (
        "oktober",
        "october",
        "ekim",
        "октябр*",
        "жовт*",
        "أكتوبر",
        "اكتوبر",
        "تشرين الأول",
        "اکتبر",
    ),
    11: ("november", "kasım", "ноябр*", "листопад*", "نوفمبر", "تشرين الثاني", "نوامبر"),
    12: ("dezember", "december", "aralık", "декабр*", "груд*", "ديسمبر", "كانون الأول", "دسامبر"),
}
_Add = Callable[[str, str | None, int, int], None]
_WEEKDAY_INDEX = {key: i for i, key in enumerate(WEEKDAYS)}
_ASCII_DIGITS = {ord(c): str(i % 10) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹")}
_NOT_TOMORROW = re.compile(r"(?:guten|gute|gutn|schönen|schonen)\s+$")


def _alternation(words: tuple[str, ...]) -> str:
    parts = []
    for word in sorted(words, key=len, reverse=True):
        if word.startswith("ма["):  # already a folded pattern
            parts.append(word)
            continue
        stem = word.rstrip("*")
        folded = re.escape(" ".join(fold_for_matching(stem).split())).replace(r"\ ", r"\s+")
        parts.append(folded + (r"\w*" if word.endswith("*") else ""))
    return "|".join(parts)


def _named(table: dict[str, tuple[str, ...]]) -> re.Pattern[str]:
    groups = [f"(?P<{key}>{_alternation(words)})" for key, words in table.items()]
    return re.compile(r"(?<!\w)(?:" + "|".join(groups) + r")(?!\w)")


_WEEKDAY_RE = _named(WEEKDAYS)
_RELATIVE_RE = _named(RELATIVE_DAYS)
_MONTH_RE = _named({f"m{k}": v for k, v in MONTHS.items()})
_FULL_DATE = re.compile(r"(?<![\d.:/])(\d{1,2})[./](\d{1,2})[./](\d{4}|\d{2})(?![\d.:/]?\d)")
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_SHORT_DATE = re.compile(r"(?<![\d.:/])(\d{1,2})\.(\d{1,2})\.(?!\d)")
_CLOCK = re.compile(
    r"(?<![\d.:])([01]?\d|2[0-3])([:.])([0-5]\d)(?![\d.])(?:\s*(am|pm|uhr|h)(?!\w))?", re.IGNORECASE
)
_HOUR = re.compile(
    r"(?<![\w.:])(?P<prefix>(?:saat|um|at|в|о|ساعه|الساعه|ساعت)\s+)?"
    r"(?P<hour>[01]?\d|2[0-3])(?![\d.:])(?:\s*(?P<suffix>uhr|h|am|pm|o'clock|oclock)(?!\w))?",
    re.IGNORECASE,
)


def find_dates_and_times(text: str) -> list[Entity]:
    """All date and time mentions, non-overlapping, in text order."""
    digits = text.translate(_ASCII_DIGITS)
    folded = fold_for_matching(digits)
    found: list[Entity] = []

    def add(kind: str, value: str | None, start: int, end: int) -> None:
        if value and not any(start < e.end and e.start < end for e in found):
            found.append(Entity(kind, value, start, end, text[start:end]))

    for m in _ISO_DATE.finditer(digits):
        add("date", _iso(int(m[1]), int(m[2]), int(m[3])), m.start(), m.end())
    for m in _FULL_DATE.finditer(digits):
        year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
        add("date", _iso(year, int(m[2]), int(m[1])), m.start(), m.end())
    for m in _MONTH_RE.finditer(folded):
        _add_day_month(folded, m, add)
    for m in _SHORT_DATE.finditer(digits):
        add("date", _partial(int(m[2]), int(m[1])), m.start(), m.end())
    for m in _RELATIVE_RE.finditer(folded):
        if m.lastgroup == "tomorrow" and _NOT_TOMORROW.search(folded[: m.start()]):
            continue
        add("date", m.lastgroup, m.start(), m.end())
    for m in _WEEKDAY_RE.finditer(folded):
        add("date", f"weekday:{m.lastgroup}", m.start(), m.end())
    for m in _CLOCK.finditer(digits):
        if m[2] == ":" or m[4]:  # "14.30" only counts as a time with "Uhr"/"h"/"pm"
            add("time", _clock(int(m[1]), int(m[3]), m[4]), m.start(), m.end())
    for m in _HOUR.finditer(folded):
        if m["prefix"] or m["suffix"]:
            add("time", _clock(int(m["hour"]), 0, m["suffix"]), m.start(), m.end())
    return sorted(found, key=lambda e: e.start)


def _add_day_month(folded: str, month: re.Match[str], add: _Add) -> None:
    number = int((month.lastgroup or "m0")[1:])
    before = re.search(r"(\d{1,2})\.?\s*$", folded[: month.start()])
    after = re.match(r"\s*(\d{1,2})(?!\d)", folded[month.end() :])
    if before is not None:
        start, end, day = before.start(), month.end(), int(before[1])
    elif after is not None:
        start, end, day = month.start(), month.end() + after.end(), int(after[1])
    else:
        return
    year = re.match(r"\s*(\d{4})(?!\d)", folded[end:])
    if year is not None:
        value, end = _iso(int(year[1]), number, day), end + year.end()
    else:
        value = _partial(number, day)
    add("date", value, start, end)


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _partial(month: int, day: int) -> str | None:
    return f"--{month:02d}-{day:02d}" if _iso(2024, month, day) else None


def _clock(hour: int, minute: int, suffix: str | None) -> str | None:
    marker = (suffix or "").lower()
    if marker == "pm" and hour < 12:
        hour += 12
    elif marker == "am" and hour == 12:
        hour = 0
    return f"{hour:02d}:{minute:02d}" if hour < 24 else None


def resolve_date(value: str, today: date) -> date | None:
    """The calendar date a date entity value means, seen from `today` (next occurrence)."""
    if value in {"today", "tomorrow", "day_after_tomorrow"}:
        return today + timedelta(days=("today", "tomorrow", "day_after_tomorrow").index(value))
    if value.startswith("weekday:"):
        ahead = (_WEEKDAY_INDEX[value.removeprefix("weekday:")] - today.weekday()) % 7
        return today + timedelta(days=ahead)
    if value.startswith("--"):
        month, day = int(value[2:4]), int(value[5:7])
        for year in (today.year, today.year + 1, today.year + 4):
            candidate = _iso(year, month, day)
            if candidate and date.fromisoformat(candidate) >= today:
                return date.fromisoformat(candidate)
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
