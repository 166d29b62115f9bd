"""Intake bookings: one person, one team, one slot; a lifecycle the team drives."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Index, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from core.availability import candidate_slots, team_timezone
from core.clock import utcnow
from core.columns import encrypted_column, enum_type, json_column
from core.errors import DuplicateIntake, InvalidTransition, SlotTaken
from core.municipality import Team


class BookingStatus(StrEnum):
    HELD = "held"  # offered from the waitlist, not yet accepted
    REQUESTED = "requested"  # booked by the newcomer, not yet seen by the team
    ACKNOWLEDGED = "acknowledged"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    EXPIRED = "expired"


ACTIVE_STATUSES = (
    BookingStatus.HELD,
    BookingStatus.REQUESTED,
    BookingStatus.ACKNOWLEDGED,
    BookingStatus.CONFIRMED,
)
_ACTIVE_SQL = "status IN ('held', 'requested', 'acknowledged', 'confirmed')"

TRANSITIONS: dict[BookingStatus, frozenset[BookingStatus]] = {
    BookingStatus.HELD: frozenset(
        {BookingStatus.REQUESTED, BookingStatus.EXPIRED, BookingStatus.CANCELLED}
    ),
    BookingStatus.REQUESTED: frozenset(
        {
            BookingStatus.ACKNOWLEDGED,
            BookingStatus.CONFIRMED,
            BookingStatus.DECLINED,
            BookingStatus.CANCELLED,
        }
    ),
    BookingStatus.ACKNOWLEDGED: frozenset(
        {BookingStatus.CONFIRMED, BookingStatus.DECLINED, BookingStatus.CANCELLED}
    ),
    BookingStatus.CONFIRMED: frozenset(
        {BookingStatus.COMPLETED, BookingStatus.NO_SHOW, BookingStatus.CANCELLED}
    ),
}


class Booking(SQLModel, table=True):
    __tablename__ = "booking"
    __table_args__ = (
        Index(
            "uq_booking_active_slot",
            "team_id",
            "starts_at",
            unique=True,
            sqlite_where=text(_ACTIVE_SQL),
            postgresql_where=text(_ACTIVE_SQL),
        ),
        Index(
            "uq_booking_active_person_team",
            "person_id",
            "team_id",
            unique=True,
            sqlite_where=text(_ACTIVE_SQL),
            postgresql_where=text(_ACTIVE_SQL),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=16, unique=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    team_id: int = Field(foreign_key="team.id", ondelete="RESTRICT", index=True)
    conversation_id: int | None = Field(
        default=None, foreign_key="conversation.id", ondelete="SET NULL"
    )
    starts_at: datetime = Field(index=True)
    ends_at: datetime
    status: BookingStatus = Field(
        default=BookingStatus.REQUESTED, sa_type=enum_type(BookingStatus), index=True
    )
    status_reason: str | None = Field(default=None, max_length=500)
    hold_expires_at: datetime | None = None
    language: str = Field(max_length=16)
    topic: str | None = Field(default=None, max_length=64)
    interpreter_language: str | None = Field(default=None, max_length=16)
    children_involved: bool | None = None
    contact_channel: str = Field(default="chat", max_length=16)
    routing_answers: dict[str, str] = Field(default_factory=dict, sa_column=json_column())
    source: str = Field(default="self", max_length=16)
    referrer_code: str | None = Field(default=None, max_length=64)
    display_name_enc: bytes | None = Field(default=None, sa_column=encrypted_column())
    phone_enc: bytes | None = Field(default=None, sa_column=encrypted_column())
    own_words_enc: bytes | None = Field(default=None, sa_column=encrypted_column())
    first_contact_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


def free_slots(
    session: Session, team: Team, now: datetime | None = None, limit: int | None = None
) -> list[datetime]:
    taken = set(
        session.exec(
            select(Booking.starts_at).where(
                Booking.team_id == team.id, col(Booking.status).in_(ACTIVE_STATUSES)
            )
        )
    )
    candidates = candidate_slots(session, team, team_timezone(session, team), now)
    slots = [s for s in candidates if s not in taken]
    return slots[:limit] if limit else slots


def active_booking(session: Session, person_id: int) -> Booking | None:
    statement = select(Booking).where(
        Booking.person_id == person_id, col(Booking.status).in_(ACTIVE_STATUSES)
    )
    return session.exec(statement.order_by(Booking.starts_at)).first()


def book_slot(session: Session, booking: Booking) -> Booking:
    """Insert the booking; the partial unique indexes make double booking impossible."""
    if booking.ends_at <= booking.starts_at:
        booking.ends_at = booking.starts_at + timedelta(minutes=45)
    try:
        with session.begin_nested():
            session.add(booking)
            session.flush()
    except IntegrityError as exc:
        message = str(exc.orig).lower()
        if "person" in message:
            raise DuplicateIntake("an open intake with this team exists") from exc
        raise SlotTaken("the slot was just taken") from exc
    return booking


def transition(booking: Booking, to: BookingStatus, reason: str | None = None) -> Booking:
    current = BookingStatus(booking.status)
    if to not in TRANSITIONS.get(current, frozenset()):
        raise InvalidTransition(f"{current} -> {to}")
    booking.status = to
    booking.status_reason = reason
    booking.updated_at = utcnow()
    return booking


class WaitlistStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    BOOKED = "booked"
    CANCELLED = "cancelled"


class WaitlistEntry(SQLModel, table=True):
    """Waiting for a slot of a team; the first in line is offered a freed slot with a hold."""

    __tablename__ = "waitlist_entry"
    __table_args__ = (
        Index(
            "uq_waitlist_entry_waiting",
            "person_id",
            "team_id",
            unique=True,
            sqlite_where=text("status IN ('waiting', 'offered')"),
            postgresql_where=text("status IN ('waiting', 'offered')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE", index=True)
    conversation_id: int | None = Field(
        default=None, foreign_key="conversation.id", ondelete="SET NULL"
    )
    language: str = Field(max_length=16)
    status: WaitlistStatus = Field(default=WaitlistStatus.WAITING, sa_type=enum_type(WaitlistStatus))
    offered_booking_id: int | None = Field(
        default=None, foreign_key="booking.id", ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow, index=True)
