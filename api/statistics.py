"""Aggregate, anonymous figures for municipalities: no count under MIN_COUNT is ever shown."""

from __future__ import annotations

import statistics as stats
from collections import Counter
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlmodel import Session, col, func, select

from api.auth import Principal
from core.audit import audit
from core.booking import Booking, BookingStatus
from core.municipality import Municipality, Team
from core.stats import TopicCount

MIN_COUNT = 5
COUNTED = [s for s in BookingStatus if s not in (BookingStatus.HELD, BookingStatus.EXPIRED)]


class Cell(BaseModel):
    key: str
    count: int | None  # None: fewer than MIN_COUNT, suppressed
    suppressed: bool


class Rate(BaseModel):
    value: float | None
    suppressed: bool


class Statistics(BaseModel):
    min_count: int
    bookings_per_week: list[Cell]
    topics_per_municipality: list[Cell]
    unanswered_topics: list[Cell]
    question_languages: list[Cell]
    intake_languages: list[Cell]
    interpreter_languages: list[Cell]
    hours_first_chat_to_intake_median: Rate
    no_show_rate: Rate


def cell(key: str, count: int) -> Cell:
    return Cell(key=key, count=count if count >= MIN_COUNT else None, suppressed=count < MIN_COUNT)


def _cells(counter: Counter[str], sort_by_key: bool = False) -> list[Cell]:
    items = sorted(counter.items()) if sort_by_key else counter.most_common()
    return [cell(k, v) for k, v in items if v > 0]


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def compute(session: Session, principal: Principal) -> Statistics:
    bookings_q = select(Booking).where(col(Booking.status).in_(COUNTED))
    topics_q = select(  # type: ignore[call-overload]
        col(TopicCount.municipality_id), col(TopicCount.topic), col(TopicCount.language), col(TopicCount.answered),
        func.sum(TopicCount.count),
    ).group_by(
        TopicCount.municipality_id, TopicCount.topic, TopicCount.language, TopicCount.answered
    )
    if principal.municipality_ids is not None:
        team_ids = session.exec(select(Team.id).where(col(Team.municipality_id).in_(principal.municipality_ids))).all()
        bookings_q = bookings_q.where(col(Booking.team_id).in_(team_ids))
        topics_q = topics_q.where(col(TopicCount.municipality_id).in_(principal.municipality_ids))
    bookings = session.exec(bookings_q).all()
    names = {m.id: m.name for m in session.exec(select(Municipality))}
    weeks: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    interpreters: Counter[str] = Counter()
    delays: list[float] = []
    for b in bookings:
        year, week, _ = _utc(b.created_at).isocalendar()
        weeks[f"{year}-W{week:02d}"] += 1
        languages[b.language] += 1
        if b.interpreter_language:
            interpreters[b.interpreter_language] += 1
        if b.first_contact_at is not None:
            delays.append((_utc(b.created_at) - _utc(b.first_contact_at)).total_seconds() / 3600)
    per_place: Counter[str] = Counter()
    unanswered: Counter[str] = Counter()
    question_languages: Counter[str] = Counter()
    for municipality_id, topic, language, answered, total in session.exec(topics_q).all():
        place = names.get(municipality_id, "ohne Ort")
        per_place[f"{place} · {topic}"] += int(total or 0)
        question_languages[language] += int(total or 0)
        if not answered:
            unanswered[f"{place} · {topic}"] += int(total or 0)
    no_show = sum(1 for b in bookings if b.status is BookingStatus.NO_SHOW)
    attended = sum(1 for b in bookings if b.status is BookingStatus.COMPLETED)
    rate_ok = no_show >= MIN_COUNT and attended + no_show >= MIN_COUNT
    audit(session, principal.actor, "statistics.read", "statistics", "aggregate")
    return Statistics(
        min_count=MIN_COUNT,
        bookings_per_week=_cells(weeks, sort_by_key=True),
        topics_per_municipality=_cells(per_place),
        unanswered_topics=_cells(unanswered),
        question_languages=_cells(question_languages),
        intake_languages=_cells(languages),
        interpreter_languages=_cells(interpreters),
        hours_first_chat_to_intake_median=Rate(
            value=round(stats.median(delays), 1) if len(delays) >= MIN_COUNT else None,
            suppressed=len(delays) < MIN_COUNT,
        ),
        no_show_rate=Rate(value=round(no_show / (attended + no_show), 3) if rate_ok else None, suppressed=not rate_ok),
    )
