"""Due work as rows: reminders and notices wait here until a job claims, sends, marks sent."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import UniqueConstraint, update
from sqlmodel import Field, Session, SQLModel, col, select

from core.clock import utcnow
from core.columns import enum_type, json_column


class OutboxKind(StrEnum):
    REMINDER = "reminder"
    STATUS_NOTICE = "status_notice"
    HANDOFF_REPLY = "handoff_reply"
    WAITLIST_OFFER = "waitlist_offer"
    WEBHOOK = "webhook"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (UniqueConstraint("dedupe_key", name="uq_outbox_message_dedupe"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: OutboxKind = Field(sa_type=enum_type(OutboxKind), index=True)
    dedupe_key: str = Field(max_length=120)
    person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="CASCADE")
    booking_id: int | None = Field(default=None, foreign_key="booking.id", ondelete="CASCADE")
    payload: dict[str, object] = Field(default_factory=dict, sa_column=json_column())
    due_at: datetime = Field(index=True)
    claimed_at: datetime | None = None
    claim_token: str | None = Field(default=None, max_length=32)
    sent_at: datetime | None = Field(default=None, index=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=300)
    cancelled_at: datetime | None = None


def enqueue(
    session: Session,
    kind: OutboxKind,
    dedupe_key: str,
    due_at: datetime,
    person_id: int | None = None,
    booking_id: int | None = None,
    **payload: object,
) -> OutboxMessage | None:
    """Add due work once: a second row with the same dedupe key is ignored."""
    existing = session.exec(
        select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)
    ).first()
    if existing is not None:
        return None
    message = OutboxMessage(
        kind=kind,
        dedupe_key=dedupe_key,
        due_at=due_at,
        person_id=person_id,
        booking_id=booking_id,
        payload=dict(payload),
    )
    session.add(message)
    session.flush()
    return message


def claim_due(
    session: Session,
    kinds: tuple[OutboxKind, ...],
    now: datetime | None = None,
    limit: int = 50,
    lease: timedelta = timedelta(minutes=5),
) -> list[OutboxMessage]:
    """Claim due rows for this worker; a claim older than the lease is taken over.

    PostgreSQL: FOR UPDATE SKIP LOCKED. SQLite: the transaction holds the write lock
    (BEGIN IMMEDIATE), so the select-then-update is already exclusive.
    """
    now = now or utcnow()
    statement = (
        select(OutboxMessage)
        .where(
            col(OutboxMessage.kind).in_(kinds),
            col(OutboxMessage.sent_at).is_(None),
            col(OutboxMessage.cancelled_at).is_(None),
            OutboxMessage.due_at <= now,
            (col(OutboxMessage.claimed_at).is_(None)) | (OutboxMessage.claimed_at < now - lease),
        )
        .order_by(OutboxMessage.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(session.exec(statement))
    token = uuid.uuid4().hex
    for row in rows:
        row.claimed_at = now
        row.claim_token = token
        row.attempts += 1
    session.flush()
    return rows


def mark_sent(session: Session, message: OutboxMessage) -> bool:
    """Mark sent only if our claim still holds: a taken-over claim is not sent twice."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message.id,
            col(OutboxMessage.claim_token) == message.claim_token,
            col(OutboxMessage.sent_at).is_(None),
        )
        .values(sent_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def cancel_pending(session: Session, booking_id: int) -> None:
    session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.booking_id) == booking_id,
            col(OutboxMessage.sent_at).is_(None),
            col(OutboxMessage.kind) == OutboxKind.REMINDER,
        )
        .values(cancelled_at=utcnow())
    )
