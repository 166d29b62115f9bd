"""Deletion on request and retention purges: personal data really goes, counts stay."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select, update

from core.audit import AuditEvent, audit
from core.booking import ACTIVE_STATUSES, Booking, BookingStatus, WaitlistEntry
from core.clock import utcnow
from core.consent import ConsentRecord, withdraw_all
from core.handoff import HandoffRequest
from core.outbox import OutboxMessage, cancel_pending
from core.person import ChannelIdentity, Conversation, Person, ProcessedUpdate, WebInboxMessage

CLOSED_STATUSES = (
    BookingStatus.DECLINED,
    BookingStatus.CANCELLED,
    BookingStatus.COMPLETED,
    BookingStatus.NO_SHOW,
    BookingStatus.EXPIRED,
)


def _scrub_booking(booking: Booking) -> None:
    booking.display_name_enc = None
    booking.phone_enc = None
    booking.own_words_enc = None
    booking.routing_answers = {}
    booking.person_id = None
    booking.conversation_id = None


def delete_person(session: Session, person: Person) -> list[Booking]:
    """Withdraw consents, cancel open bookings, erase everything personal; returns cancelled bookings."""
    assert person.id is not None
    withdraw_all(session, person.id)
    cancelled: list[Booking] = []
    for booking in session.exec(select(Booking).where(Booking.person_id == person.id)):
        if booking.status in ACTIVE_STATUSES:
            booking.status = BookingStatus.CANCELLED
            booking.status_reason = "deleted by the person"
            booking.updated_at = utcnow()
            cancelled.append(booking)
            assert booking.id is not None
            cancel_pending(session, booking.id)
        _scrub_booking(booking)
        session.add(booking)
    for handoff in session.exec(select(HandoffRequest).where(HandoffRequest.person_id == person.id)):
        handoff.question_enc = None
        handoff.reply_enc = None
        handoff.person_id = None
        handoff.conversation_id = None
        session.add(handoff)
    session.execute(
        update(ConsentRecord).where(col(ConsentRecord.person_id) == person.id).values(person_id=None)
    )
    session.execute(
        update(AuditEvent)
        .where(col(AuditEvent.actor) == f"person:{person.pseudonym}")
        .values(actor="person:deleted")
    )
    session.execute(
        update(ProcessedUpdate)
        .where(col(ProcessedUpdate.person_id) == person.id)
        .values(replies_enc=None, person_id=None)
    )
    for table in (OutboxMessage, WaitlistEntry, WebInboxMessage, Conversation, ChannelIdentity):
        for row in session.exec(select(table).where(table.person_id == person.id)):  # type: ignore[attr-defined]
            session.delete(row)
    session.flush()
    session.delete(person)
    session.flush()
    audit(session, "person:deleted", "person.deleted", "person", "deleted", cancelled=len(cancelled))
    return cancelled


def purge(
    session: Session, conversation_days: int, closed_intake_days: int, now: datetime | None = None
) -> dict[str, int]:
    """Retention: conversation context after N days idle; personal data of closed intakes after M days."""
    now = now or utcnow()
    stale = list(
        session.exec(
            select(Conversation).where(Conversation.updated_at < now - timedelta(days=conversation_days))
        )
    )
    for conversation in stale:
        conversation.context = {}
        conversation.state = "ready" if conversation.municipality_id and conversation.language else "start"
        session.add(conversation)
    closed = list(
        session.exec(
            select(Booking).where(
                col(Booking.status).in_(CLOSED_STATUSES),
                Booking.updated_at < now - timedelta(days=closed_intake_days),
                col(Booking.person_id).is_not(None) | col(Booking.display_name_enc).is_not(None),
            )
        )
    )
    for booking in closed:
        _scrub_booking(booking)
        session.add(booking)
    old_handoffs = list(
        session.exec(
            select(HandoffRequest).where(
                HandoffRequest.created_at < now - timedelta(days=closed_intake_days),
                col(HandoffRequest.question_enc).is_not(None),
            )
        )
    )
    for handoff in old_handoffs:
        handoff.question_enc = None
        handoff.reply_enc = None
        session.add(handoff)
    session.flush()
    return {"conversations": len(stale), "bookings": len(closed), "handoffs": len(old_handoffs)}
