"""A team's bookable time: weekly hours, exceptions, and the free slots derived from them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from core.clock import to_utc, utcnow
from core.municipality import Municipality, Team


class WeeklyHours(SQLModel, table=True):
    __tablename__ = "weekly_hours"
    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="ck_weekly_hours_weekday"),
        CheckConstraint("start_time < end_time", name="ck_weekly_hours_order"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE", index=True)
    weekday: int
    start_time: time
    end_time: time


class AvailabilityException(SQLModel, table=True):
    """A day that differs: closed (no times) or open only within the given times."""

    __tablename__ = "availability_exception"
    __table_args__ = (UniqueConstraint("team_id", "day", name="uq_availability_exception_day"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE", index=True)
    day: date
    start_time: time | None = None
    end_time: time | None = None
    reason: str = Field(default="", max_length=200)


def candidate_slots(
    session: Session, team: Team, timezone: str, now: datetime | None = None
) -> list[datetime]:
    """All slot starts (naive UTC) within the team's horizon, before removing booked ones."""
    now = now or utcnow()
    zone = ZoneInfo(timezone)
    hours = list(session.exec(select(WeeklyHours).where(WeeklyHours.team_id == team.id)))
    exceptions = {
        e.day: e
        for e in session.exec(
            select(AvailabilityException).where(AvailabilityException.team_id == team.id)
        )
    }
    earliest = now + timedelta(hours=team.min_notice_hours)
    first_day = now.date()
    step = timedelta(minutes=team.slot_minutes + team.buffer_minutes)
    length = timedelta(minutes=team.slot_minutes)
    starts: list[datetime] = []
    for offset in range(team.horizon_days + 1):
        day = first_day + timedelta(days=offset)
        exception = exceptions.get(day)
        if exception is not None:
            windows = (
                [(exception.start_time, exception.end_time)]
                if exception.start_time and exception.end_time
                else []
            )
        else:
            windows = [(h.start_time, h.end_time) for h in hours if h.weekday == day.weekday()]
        for start, end in sorted(windows):
            cursor = datetime.combine(day, start, zone)
            close = datetime.combine(day, end, zone)
            while cursor + length <= close:
                utc_start = to_utc(cursor)
                if utc_start >= earliest:
                    starts.append(utc_start)
                cursor += step
    return sorted(starts)


def team_timezone(session: Session, team: Team) -> str:
    municipality = session.get(Municipality, team.municipality_id)
    return municipality.timezone if municipality else "Europe/Berlin"


DEMO_HOURS = ((0, time(9), time(12)), (1, time(13), time(16)), (2, time(9), time(12)), (3, time(9), time(12)), (3, time(13), time(15)))


def seed_demo_hours(session: Session) -> int:
    """Demo availability for teams that have none (embedded default only, never production)."""
    teams_with_hours = set(session.exec(select(WeeklyHours.team_id)))
    added = 0
    for team in session.exec(select(Team).where(Team.receives_intakes == True)):  # noqa: E712
        if team.id in teams_with_hours:
            continue
        for weekday, start, end in DEMO_HOURS:
            session.add(WeeklyHours(team_id=team.id, weekday=weekday, start_time=start, end_time=end))  # type: ignore[arg-type]
        added += 1
    session.flush()
    return added
