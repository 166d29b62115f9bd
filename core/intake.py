"""Intake lifecycle with its side effects: reminders, notices, webhooks, waitlist offers."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from core.audit import audit
from core.booking import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    WaitlistEntry,
    WaitlistStatus,
    book_slot,
    transition,
)
from core.clock import utcnow
from core.metrics import BOOKING_EVENTS
from core.municipality import Team
from core.outbox import OutboxKind, cancel_pending, enqueue
from core.referral import resolve_code

REMINDER_OFFSETS = (timedelta(hours=24), timedelta(hours=2))
HOLD = timedelta(hours=4)


def new_reference() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(8))


def _event(session: Session, booking: Booking, event: str) -> None:
    BOOKING_EVENTS.labels(event).inc()
    enqueue(
        session,
        OutboxKind.WEBHOOK,
        f"webhook:{event}:{booking.id}:{booking.status}:{booking.updated_at.timestamp()}",
        utcnow(),
        booking_id=booking.id,
        event=event,
        team_id=booking.team_id,
    )


def schedule_reminders(session: Session, booking: Booking, now: datetime | None = None) -> None:
    now = now or utcnow()
    for offset in REMINDER_OFFSETS:
        due = booking.starts_at - offset
        if due > now:
            hours = int(offset.total_seconds() // 3600)
            enqueue(
                session,
                OutboxKind.REMINDER,
                f"reminder:{booking.id}:{booking.starts_at.isoformat()}:{hours}h",
                due,
                person_id=booking.person_id,
                booking_id=booking.id,
                hours=hours,
            )


def create_intake(session: Session, booking: Booking) -> Booking:
    """Book the slot, schedule reminders, tell the team, count the referral."""
    booking.reference = booking.reference or new_reference()
    book_slot(session, booking)
    if booking.status is not BookingStatus.HELD:
        schedule_reminders(session, booking)
        _event(session, booking, "intake.created")
    if booking.referrer_code:
        code = resolve_code(session, booking.referrer_code)
        if code is not None:
            code.bookings += 1
            session.add(code)
    audit(session, "system", "intake.created", "booking", booking.id, team_id=booking.team_id)
    return booking


def change_status(
    session: Session, booking: Booking, to: BookingStatus, actor: str, reason: str | None = None
) -> Booking:
    """A status change the newcomer hears about in their language."""
    transition(booking, to, reason)
    session.add(booking)
    session.flush()
    assert booking.id is not None
    if to not in ACTIVE_STATUSES:
        cancel_pending(session, booking.id)
    if booking.person_id is not None:
        enqueue(
            session,
            OutboxKind.STATUS_NOTICE,
            f"status:{booking.id}:{to}:{booking.updated_at.timestamp()}",
            utcnow(),
            person_id=booking.person_id,
            booking_id=booking.id,
            status=str(to),
        )
    _event(session, booking, "intake.cancelled" if to is BookingStatus.CANCELLED else "intake.updated")
    audit(session, actor, f"intake.{to}", "booking", booking.id)
    if to in (BookingStatus.CANCELLED, BookingStatus.DECLINED, BookingStatus.EXPIRED):
        offer_freed_slot(session, booking.team_id, booking.starts_at)
    return booking


def cancel_by_person(session: Session, booking: Booking) -> Booking:
    transition(booking, BookingStatus.CANCELLED, "cancelled by the newcomer")
    session.add(booking)
    session.flush()
    assert booking.id is not None
    cancel_pending(session, booking.id)
    _event(session, booking, "intake.cancelled")
    audit(session, "person", "intake.cancelled", "booking", booking.id)
    offer_freed_slot(session, booking.team_id, booking.starts_at)
    return booking


def join_waitlist(session: Session, person_id: int, team_id: int, language: str, conversation_id: int | None) -> WaitlistEntry:
    existing = session.exec(
        select(WaitlistEntry).where(
            WaitlistEntry.person_id == person_id,
            WaitlistEntry.team_id == team_id,
            col(WaitlistEntry.status).in_((WaitlistStatus.WAITING, WaitlistStatus.OFFERED)),
        )
    ).first()
    if existing is not None:
        return existing
    entry = WaitlistEntry(
        person_id=person_id, team_id=team_id, language=language, conversation_id=conversation_id
    )
    session.add(entry)
    session.flush()
    return entry


def offer_freed_slot(session: Session, team_id: int, starts_at: datetime, now: datetime | None = None) -> Booking | None:
    """The first person waiting gets the freed slot on hold, with an offer in their language."""
    now = now or utcnow()
    if starts_at <= now + timedelta(hours=1):
        return None
    entry = session.exec(
        select(WaitlistEntry)
        .where(WaitlistEntry.team_id == team_id, WaitlistEntry.status == WaitlistStatus.WAITING)
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    ).first()
    team = session.get(Team, team_id)
    if entry is None or team is None:
        return None
    hold = Booking(
        reference=new_reference(),
        person_id=entry.person_id,
        team_id=team_id,
        conversation_id=entry.conversation_id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=team.slot_minutes),
        status=BookingStatus.HELD,
        hold_expires_at=min(now + HOLD, starts_at - timedelta(hours=1)),
        language=entry.language,
    )
    book_slot(session, hold)
    entry.status = WaitlistStatus.OFFERED
    entry.offered_booking_id = hold.id
    session.add(entry)
    enqueue(
        session,
        OutboxKind.WAITLIST_OFFER,
        f"waitlist:{hold.id}",
        now,
        person_id=entry.person_id,
        booking_id=hold.id,
    )
    return hold


def accept_hold(session: Session, booking: Booking) -> Booking:
    transition(booking, BookingStatus.REQUESTED)
    booking.hold_expires_at = None
    session.add(booking)
    entry = session.exec(select(WaitlistEntry).where(WaitlistEntry.offered_booking_id == booking.id)).first()
    if entry is not None:
        entry.status = WaitlistStatus.BOOKED
        session.add(entry)
    session.flush()
    schedule_reminders(session, booking)
    _event(session, booking, "intake.created")
    return booking


def expire_holds(session: Session, now: datetime | None = None) -> int:
    """Holds not taken in time expire; the slot goes to the next person waiting."""
    now = now or utcnow()
    expired = list(
        session.exec(
            select(Booking).where(
                Booking.status == BookingStatus.HELD, col(Booking.hold_expires_at) <= now
            )
        )
    )
    for booking in expired:
        transition(booking, BookingStatus.EXPIRED, "offer not taken in time")
        session.add(booking)
        entry = session.exec(select(WaitlistEntry).where(WaitlistEntry.offered_booking_id == booking.id)).first()
        if entry is not None:
            entry.status = WaitlistStatus.CANCELLED
            session.add(entry)
        session.flush()
        offer_freed_slot(session, booking.team_id, booking.starts_at, now)
    return len(expired)
