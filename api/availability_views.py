"""A team's bookable time, edited by the team: settings, weekly hours, exceptions, slots."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from pydantic import BaseModel, Field, model_validator
from sqlmodel import Session, col, select

from api.auth import Principal
from core.audit import audit
from core.availability import AvailabilityException, WeeklyHours
from core.booking import ACTIVE_STATUSES, Booking, free_slots
from core.errors import Conflict, NotFound
from core.municipality import Team


class AvailabilitySettings(BaseModel):
    slot_minutes: int = Field(ge=10, le=240)
    buffer_minutes: int = Field(ge=0, le=120)
    horizon_days: int = Field(ge=1, le=180)
    min_notice_hours: int = Field(ge=0, le=336)


class WeeklyHoursIn(BaseModel):
    weekday: int = Field(ge=0, le=6, description="0 = Monday")
    start_time: time
    end_time: time

    @model_validator(mode="after")
    def _ordered(self) -> WeeklyHoursIn:
        if self.start_time >= self.end_time:
            raise ValueError("end_time must be after start_time")
        return self


class WeeklyHoursOut(WeeklyHoursIn):
    id: int


class ExceptionIn(BaseModel):
    day: date
    start_time: time | None = Field(default=None, description="empty: closed all day")
    end_time: time | None = None
    reason: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _ordered(self) -> ExceptionIn:
        if (self.start_time is None) != (self.end_time is None):
            raise ValueError("give both start_time and end_time, or neither (closed)")
        if self.start_time and self.end_time and self.start_time >= self.end_time:
            raise ValueError("end_time must be after start_time")
        return self


class ExceptionOut(ExceptionIn):
    id: int


class Availability(BaseModel):
    team: str
    settings: AvailabilitySettings
    weekly_hours: list[WeeklyHoursOut]
    exceptions: list[ExceptionOut]


class Slot(BaseModel):
    starts_at: datetime
    booked: bool
    intake_id: int | None = None


def availability(session: Session, team: Team) -> Availability:
    hours = session.exec(
        select(WeeklyHours).where(WeeklyHours.team_id == team.id).order_by(col(WeeklyHours.weekday), col(WeeklyHours.start_time))
    ).all()
    exceptions = session.exec(
        select(AvailabilityException).where(AvailabilityException.team_id == team.id).order_by(col(AvailabilityException.day))
    ).all()
    return Availability(
        team=team.slug,
        settings=AvailabilitySettings(
            slot_minutes=team.slot_minutes, buffer_minutes=team.buffer_minutes,
            horizon_days=team.horizon_days, min_notice_hours=team.min_notice_hours,
        ),
        weekly_hours=[WeeklyHoursOut(id=h.id, weekday=h.weekday, start_time=h.start_time, end_time=h.end_time) for h in hours if h.id],
        exceptions=[ExceptionOut(id=e.id, day=e.day, start_time=e.start_time, end_time=e.end_time, reason=e.reason) for e in exceptions if e.id],
    )


def update_settings(session: Session, principal: Principal, team: Team, values: AvailabilitySettings) -> Team:
    for key, value in values.model_dump().items():
        setattr(team, key, value)
    session.add(team)
    audit(session, principal.actor, "availability.settings", "team", team.id, **values.model_dump())
    return team


def add_hours(session: Session, principal: Principal, team: Team, values: WeeklyHoursIn) -> WeeklyHours:
    assert team.id is not None
    overlapping = session.exec(
        select(WeeklyHours).where(
            WeeklyHours.team_id == team.id, WeeklyHours.weekday == values.weekday,
            WeeklyHours.start_time < values.end_time, WeeklyHours.end_time > values.start_time,
        )
    ).first()
    if overlapping is not None:
        raise Conflict("start_time: overlaps existing hours on this weekday")
    hours = WeeklyHours(team_id=team.id, **values.model_dump())
    session.add(hours)
    session.flush()
    audit(session, principal.actor, "availability.hours_added", "weekly_hours", hours.id, team_id=team.id)
    return hours


def remove_hours(session: Session, principal: Principal, team: Team, hours_id: int) -> None:
    hours = session.get(WeeklyHours, hours_id)
    if hours is None or hours.team_id != team.id:
        raise NotFound(f"weekly hours {hours_id}")
    session.delete(hours)
    audit(session, principal.actor, "availability.hours_removed", "weekly_hours", hours_id, team_id=team.id)


def add_exception(session: Session, principal: Principal, team: Team, values: ExceptionIn) -> AvailabilityException:
    assert team.id is not None
    existing = session.exec(
        select(AvailabilityException).where(AvailabilityException.team_id == team.id, AvailabilityException.day == values.day)
    ).first()
    if existing is not None:
        raise Conflict("day: an exception for this day exists; delete it first")
    exception = AvailabilityException(team_id=team.id, **values.model_dump())
    session.add(exception)
    session.flush()
    audit(session, principal.actor, "availability.exception_added", "availability_exception", exception.id, team_id=team.id)
    return exception


def remove_exception(session: Session, principal: Principal, team: Team, exception_id: int) -> None:
    exception = session.get(AvailabilityException, exception_id)
    if exception is None or exception.team_id != team.id:
        raise NotFound(f"exception {exception_id}")
    session.delete(exception)
    audit(session, principal.actor, "availability.exception_removed", "availability_exception", exception_id, team_id=team.id)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def slots(session: Session, team: Team, include_free: bool = True, include_booked: bool = True) -> list[Slot]:
    result: list[Slot] = []
    if include_free:
        result += [Slot(starts_at=_utc(s), booked=False) for s in free_slots(session, team)]
    if include_booked:
        booked = session.exec(
            select(Booking).where(Booking.team_id == team.id, col(Booking.status).in_(ACTIVE_STATUSES))
        ).all()
        result += [Slot(starts_at=_utc(b.starts_at), booked=True, intake_id=b.id) for b in booked]
    return sorted(result, key=lambda s: s.starts_at)
