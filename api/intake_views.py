"""What case managers see of an intake: listing, detail (decrypted, audited), actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlmodel import Session, col, or_, select

from api.auth import Principal
from core.audit import audit
from core.availability import team_timezone
from core.booking import Booking, BookingStatus, book_slot, free_slots
from core.clock import utcnow
from core.consent import ConsentRecord, ConsentText
from core.crypto import FieldCipher
from core.errors import InvalidInput, NotFound, SlotTaken
from core.intake import change_status, new_reference
from core.municipality import Team
from core.outbox import OutboxKind, enqueue

PROPOSAL_HOLD = timedelta(hours=48)


class Translator(Protocol):
    """An optional machine translator (e.g. nlu.translation.ArgosTranslator) set by the root."""

    def supports(self, source: str, target: str) -> bool: ...

    def translate(self, text: str, source: str, target: str) -> str: ...


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    CONFIRM = "confirm"
    DECLINE = "decline"
    COMPLETE = "complete"
    NO_SHOW = "no-show"


ACTION_STATUS = {
    Action.ACKNOWLEDGE: BookingStatus.ACKNOWLEDGED,
    Action.CONFIRM: BookingStatus.CONFIRMED,
    Action.DECLINE: BookingStatus.DECLINED,
    Action.COMPLETE: BookingStatus.COMPLETED,
    Action.NO_SHOW: BookingStatus.NO_SHOW,
}


@dataclass(frozen=True)
class IntakeFilter:
    status: list[BookingStatus] | None = None
    date_from: date | None = None  # of the appointment, in the team's zone
    date_to: date | None = None  # inclusive
    language: str | None = None
    topic: str | None = None
    team: str | None = None
    limit: int = 200
    offset: int = 0


class IntakeSummary(BaseModel):
    id: int
    reference: str
    team: str
    status: BookingStatus
    starts_at: datetime
    ends_at: datetime
    language: str
    interpreter_language: str | None
    topic: str | None
    display_name: str | None
    source: str
    created_at: datetime


class OwnWords(BaseModel):
    text: str
    language: str
    german: str | None = None
    machine_translated: bool = False


class ConsentSummary(BaseModel):
    id: int
    kind: str
    language: str
    version: int
    consent_text_id: int
    channel: str
    text_sha256: str
    recipients: list[str]
    given_at: datetime
    withdrawn_at: datetime | None
    pdf_url: str
    json_url: str


class IntakeDetail(IntakeSummary):
    status_reason: str | None
    phone: str | None
    contact_channel: str
    children_involved: bool | None
    routing_answers: dict[str, str]
    own_words: OwnWords | None
    first_contact_at: datetime | None
    updated_at: datetime
    consents: list[ConsentSummary]


def _utc(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def visible_booking(session: Session, principal: Principal, booking_id: int) -> Booking:
    booking = session.get(Booking, booking_id)
    if booking is None or not principal.sees_team(booking.team_id) or booking.status is BookingStatus.HELD:
        raise NotFound(f"intake {booking_id}")
    return booking


def query_intakes(session: Session, principal: Principal, filters: IntakeFilter) -> list[tuple[Booking, Team]]:
    statement = select(Booking, Team).join(Team, col(Team.id) == col(Booking.team_id))
    statement = statement.where(Booking.status != BookingStatus.HELD)
    if principal.team_ids is not None:
        statement = statement.where(col(Booking.team_id).in_(principal.team_ids))
    if filters.team:
        statement = statement.where(Team.slug == filters.team)
    if filters.status:
        statement = statement.where(col(Booking.status).in_(filters.status))
    if filters.language:
        statement = statement.where(
            or_(Booking.language == filters.language, Booking.interpreter_language == filters.language)
        )
    if filters.topic:
        statement = statement.where(Booking.topic == filters.topic)
    zone = ZoneInfo("Europe/Berlin")  # the teams' zone; a wider range is cut per team below
    if filters.date_from:
        statement = statement.where(Booking.starts_at >= datetime.combine(filters.date_from, time(), zone) - timedelta(hours=14))
    if filters.date_to:
        statement = statement.where(Booking.starts_at < datetime.combine(filters.date_to + timedelta(days=1), time(), zone) + timedelta(hours=14))
    rows = list(session.exec(statement.order_by(col(Booking.starts_at), col(Booking.id))))
    result = []
    for booking, team in rows:
        local = _utc(booking.starts_at).astimezone(ZoneInfo(team_timezone(session, team))).date()
        if filters.date_from and local < filters.date_from or filters.date_to and local > filters.date_to:
            continue
        result.append((booking, team))
    return result[filters.offset : filters.offset + filters.limit]


def summary(booking: Booking, team: Team, cipher: FieldCipher) -> IntakeSummary:
    assert booking.id is not None
    return IntakeSummary(
        id=booking.id, reference=booking.reference, team=team.slug, status=booking.status,
        starts_at=_utc(booking.starts_at), ends_at=_utc(booking.ends_at), language=booking.language,
        interpreter_language=booking.interpreter_language, topic=booking.topic,
        display_name=cipher.decrypt(booking.display_name_enc), source=booking.source,
        created_at=_utc(booking.created_at),
    )


def list_intakes(
    session: Session, principal: Principal, cipher: FieldCipher, filters: IntakeFilter, action: str = "intake.list"
) -> list[IntakeSummary]:
    rows = query_intakes(session, principal, filters)
    if rows:
        audit(session, principal.actor, action, "booking", ",".join(str(b.id) for b, _ in rows)[:64],
              ids=[b.id for b, _ in rows])
    return [summary(b, t, cipher) for b, t in rows]


def consent_records(session: Session, booking: Booking, team: Team) -> list[ConsentRecord]:
    """Records linked to this intake, and the person's consents naming this team."""
    clauses = [ConsentRecord.booking_id == booking.id]
    if booking.person_id is not None:
        clauses.append(ConsentRecord.person_id == booking.person_id)
    records = session.exec(select(ConsentRecord).where(or_(*clauses)).order_by(col(ConsentRecord.given_at))).all()
    return [r for r in records if r.booking_id == booking.id or team.name in r.recipients]


def consent_summary(record: ConsentRecord) -> ConsentSummary:
    assert record.id is not None
    return ConsentSummary(
        id=record.id, kind=str(record.kind), language=record.language, version=record.version,
        consent_text_id=record.consent_text_id, channel=record.channel, text_sha256=record.text_sha256,
        recipients=list(record.recipients), given_at=_utc(record.given_at),
        withdrawn_at=_utc(record.withdrawn_at) if record.withdrawn_at else None,
        pdf_url=f"/api/v1/consents/{record.id}.pdf", json_url=f"/api/v1/consents/{record.id}",
    )


def own_words(booking: Booking, cipher: FieldCipher, translator: Translator | None) -> OwnWords | None:
    text = cipher.decrypt(booking.own_words_enc)
    if not text:
        return None
    words = OwnWords(text=text, language=booking.language)
    if booking.language == "de":
        return words
    if translator is not None and translator.supports(booking.language, "de"):
        try:
            words.german = translator.translate(text, booking.language, "de")
            words.machine_translated = True
        except Exception:  # noqa: BLE001 - a broken model must not hide the original words
            words.german = None
    return words


def intake_detail(
    session: Session, principal: Principal, cipher: FieldCipher, booking_id: int, translator: Translator | None = None
) -> IntakeDetail:
    booking = visible_booking(session, principal, booking_id)
    team = session.get(Team, booking.team_id)
    assert team is not None
    audit(session, principal.actor, "intake.read", "booking", booking.id, team_id=team.id)
    base = summary(booking, team, cipher).model_dump()
    return IntakeDetail(
        **base,
        status_reason=booking.status_reason,
        phone=cipher.decrypt(booking.phone_enc),
        contact_channel=booking.contact_channel,
        children_involved=booking.children_involved,
        routing_answers=dict(booking.routing_answers),
        own_words=own_words(booking, cipher, translator),
        first_contact_at=_utc(booking.first_contact_at) if booking.first_contact_at else None,
        updated_at=_utc(booking.updated_at),
        consents=[consent_summary(r) for r in consent_records(session, booking, team)],
    )


def apply_action(
    session: Session, principal: Principal, booking_id: int, action: Action, reason: str | None
) -> Booking:
    booking = visible_booking(session, principal, booking_id)
    if action is Action.DECLINE and not (reason and reason.strip()):
        raise InvalidInput("reason: a reason is required to decline")
    return change_status(session, booking, ACTION_STATUS[action], principal.actor, (reason or "").strip() or None)


def propose_time(
    session: Session, principal: Principal, booking_id: int, starts_at: datetime, reason: str | None
) -> Booking:
    """Decline this time and hold another one for the person, who accepts it in the chat."""
    booking = visible_booking(session, principal, booking_id)
    team = session.get(Team, booking.team_id)
    assert team is not None
    wanted = _utc(starts_at)
    if wanted not in [_utc(s) for s in free_slots(session, team)]:
        raise SlotTaken("starts_at: not a free slot of this team")
    change_status(session, booking, BookingStatus.DECLINED, principal.actor, (reason or "").strip() or None)
    now = utcnow()
    hold = Booking(
        reference=new_reference(), person_id=booking.person_id, team_id=booking.team_id,
        conversation_id=booking.conversation_id, starts_at=wanted,
        ends_at=wanted + timedelta(minutes=team.slot_minutes), status=BookingStatus.HELD,
        hold_expires_at=min(now + PROPOSAL_HOLD, wanted - timedelta(hours=1)),
        language=booking.language, topic=booking.topic, interpreter_language=booking.interpreter_language,
        children_involved=booking.children_involved, contact_channel=booking.contact_channel,
        routing_answers=dict(booking.routing_answers), source=booking.source,
        display_name_enc=booking.display_name_enc, phone_enc=booking.phone_enc,
        own_words_enc=booking.own_words_enc, first_contact_at=booking.first_contact_at,
    )
    book_slot(session, hold)
    for record in consent_records(session, booking, team):
        if record.booking_id == booking.id:
            record.booking_id = hold.id
            session.add(record)
    enqueue(session, OutboxKind.WAITLIST_OFFER, f"proposal:{hold.id}", now,
            person_id=booking.person_id, booking_id=hold.id)
    audit(session, principal.actor, "intake.proposed", "booking", booking.id, proposal=hold.id)
    return hold


def consent_text(session: Session, record: ConsentRecord) -> ConsentText:
    text = session.get(ConsentText, record.consent_text_id)
    if text is None:
        raise NotFound(f"consent text {record.consent_text_id}")
    return text
