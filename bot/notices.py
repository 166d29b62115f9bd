"""Due messages (reminders, status notices, team replies, waitlist offers) in the user's language."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from anyio import to_thread
from sqlmodel import Session, select

from bot.dates import when_label
from bot.replies import Button, Reply
from bot.strings import Strings
from bot.wire import reply_to_json
from core.availability import team_timezone
from core.booking import Booking
from core.clock import utcnow
from core.crypto import FieldCipher
from core.db import transaction
from core.handoff import HandoffRequest
from core.metrics import MESSAGES_OUT, REMINDER_LAG
from core.municipality import Team
from core.outbox import OutboxKind, OutboxMessage, claim_due, mark_sent
from core.person import Channel, ChannelIdentity, Person, WebInboxMessage

log = logging.getLogger(__name__)
CHAT_KINDS = (
    OutboxKind.REMINDER,
    OutboxKind.STATUS_NOTICE,
    OutboxKind.HANDOFF_REPLY,
    OutboxKind.WAITLIST_OFFER,
)
TelegramSend = Callable[[str, list[Reply]], Awaitable[None]]
LEASE = timedelta(minutes=5)  # a claim older than this was a crashed worker's: take it over


@dataclass(frozen=True)
class Delivery:
    message_id: int
    claim_token: str
    channel: Channel
    address: str
    replies: list[Reply]
    kind: OutboxKind
    due_at: datetime


def compose(
    session: Session, strings: Strings, cipher: FieldCipher, message: OutboxMessage, language: str
) -> list[Reply]:
    t = lambda key, **v: strings.get(language, key, **v)  # noqa: E731
    booking = session.get(Booking, message.booking_id) if message.booking_id else None
    team = session.get(Team, booking.team_id) if booking else None
    zone = team_timezone(session, team) if team else "Europe/Berlin"
    when = when_label(booking.starts_at, zone, language) if booking else ""
    where = (team.address if team and team.address else t("booking.address_follows"))
    if message.kind == OutboxKind.REMINDER and booking and team:
        return [Reply(t("reminder.message", team=team.name, when=when, where=where), language,
                      buttons=[[Button(t("reminder.cant_come"), f"book:cancel:{booking.id}"),
                                Button(t("booking.reschedule"), "appointment:reschedule")]])]
    if message.kind == OutboxKind.STATUS_NOTICE and booking:
        text = t("notice.status", when=when, status=t(f"status.{message.payload.get('status')}"))
        if booking.status_reason:
            text += "\n" + t("notice.reason", reason=booking.status_reason)
        return [Reply(text, language, buttons=[[Button(t("button.menu"), "menu")]])]
    if message.kind == OutboxKind.WAITLIST_OFFER and booking and team:
        return [Reply(t("waitlist.offer", when=when, team=team.name), language,
                      buttons=[[Button(t("waitlist.accept"), f"book:accept:{booking.id}"),
                                Button(t("waitlist.decline"), f"book:decline:{booking.id}")]])]
    if message.kind == OutboxKind.HANDOFF_REPLY:
        handoff_id = message.payload.get("handoff_id")
        handoff = session.get(HandoffRequest, handoff_id) if isinstance(handoff_id, int) else None
        if handoff is None:
            return []
        team = session.get(Team, handoff.team_id)
        key = "handoff.reply_translated" if handoff.reply_machine_translated else "handoff.reply"
        text = cipher.decrypt(handoff.reply_enc) or ""
        return [Reply(text, language, title=t(key, team=team.name if team else ""),
                      buttons=[[Button(t("button.person"), "handoff"), Button(t("button.menu"), "menu")]])]
    return []


def claim_deliveries(db_engine, cipher: FieldCipher, strings: Strings, limit: int = 50, lease: timedelta = LEASE) -> list[Delivery]:  # type: ignore[no-untyped-def]
    deliveries: list[Delivery] = []
    with transaction(db_engine) as session:
        for message in claim_due(session, CHAT_KINDS, limit=limit, lease=lease):
            person = session.get(Person, message.person_id) if message.person_id else None
            identity = session.exec(
                select(ChannelIdentity).where(ChannelIdentity.person_id == message.person_id)
            ).first() if person else None
            address = cipher.decrypt(identity.address_enc) if identity else None
            replies = compose(session, strings, cipher, message, person.language) if person else []
            if person is None or identity is None or address is None or not replies:
                message.cancelled_at = message.claimed_at  # nobody to tell any more
                continue
            assert message.id is not None and message.claim_token is not None
            deliveries.append(
                Delivery(
                    message.id, message.claim_token, identity.channel, address, replies, message.kind, message.due_at
                )
            )
    return deliveries


def mark_delivered(db_engine, delivery: Delivery) -> bool:  # type: ignore[no-untyped-def]
    with transaction(db_engine) as session:
        message = session.get(OutboxMessage, delivery.message_id)
        if message is None or message.claim_token != delivery.claim_token:
            return False  # another worker took the claim over: it sends, not us
        ok = mark_sent(session, message)
        if ok and delivery.channel == Channel.WEBCHAT and message.person_id is not None:
            for reply in delivery.replies:
                session.add(WebInboxMessage(person_id=message.person_id, payload=reply_to_json(reply)))
        return ok


async def deliver_due(db_engine, cipher: FieldCipher, strings: Strings, telegram_send: TelegramSend | None, lease: timedelta = LEASE) -> int:  # type: ignore[no-untyped-def]
    """Claim, send, mark sent. Web-chat messages are 'sent' by landing in the inbox on marking."""
    deliveries = await to_thread.run_sync(claim_deliveries, db_engine, cipher, strings, 50, lease)
    sent = 0
    for delivery in deliveries:
        if delivery.channel == Channel.TELEGRAM:
            if telegram_send is None:
                continue
            try:
                await telegram_send(delivery.address, delivery.replies)
            except Exception:  # noqa: BLE001 - a failing chat must not stop the others
                log.warning("telegram delivery failed outbox=%s", delivery.message_id, exc_info=True)
                continue
        if await to_thread.run_sync(mark_delivered, db_engine, delivery):
            sent += 1
            MESSAGES_OUT.labels(delivery.channel, str(delivery.kind)).inc(len(delivery.replies))
            REMINDER_LAG.labels(str(delivery.kind)).observe(_age(delivery.due_at))
    return sent


def _age(due_at: datetime) -> float:
    due = due_at if due_at.tzinfo else due_at.replace(tzinfo=UTC)
    return max(0.0, (utcnow() - due).total_seconds())
