"""Consent records for the receiving team: the exact text version as JSON, and the PDF."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel
from sqlmodel import Session, col, select

from api.auth import Principal
from core.audit import audit
from core.booking import Booking
from core.consent import ConsentKind, ConsentRecord, ConsentText
from core.consent_document import ConsentDocument, render_consent_pdf
from core.crypto import sha256_hex
from core.errors import NotFound
from core.municipality import Team


class ConsentJson(BaseModel):
    id: int
    kind: str
    language: str
    version: int
    consent_text_id: int
    channel: str
    given_at: datetime
    withdrawn_at: datetime | None
    text_sha256: str
    text_verified: bool
    recipients: list[str]
    intake_reference: str | None
    team: str | None
    summary: str
    full_text: str
    binding_de: str


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _booking_and_team(session: Session, principal: Principal, record: ConsentRecord) -> tuple[Booking | None, Team]:
    candidates: list[Booking] = []
    if record.booking_id is not None:
        linked = session.get(Booking, record.booking_id)
        candidates += [linked] if linked else []
    if record.person_id is not None:
        candidates += list(session.exec(select(Booking).where(Booking.person_id == record.person_id).order_by(col(Booking.id).desc())))
    for booking in candidates:
        team = session.get(Team, booking.team_id)
        if team is None or not principal.sees_team(booking.team_id):
            continue
        if booking.id == record.booking_id or team.name in record.recipients:
            return booking, team
    raise NotFound(f"consent {record.id}")


def _german(session: Session, text: ConsentText) -> ConsentText:
    if text.language == "de":
        return text
    statement = select(ConsentText).where(
        ConsentText.kind == text.kind, ConsentText.language == "de", ConsentText.scope == text.scope,
        ConsentText.version <= text.version,
    )
    return session.exec(statement.order_by(col(ConsentText.version).desc())).first() or text


def consent_json(session: Session, principal: Principal, record_id: int, retention_days: int) -> tuple[ConsentJson, ConsentDocument]:
    record = session.get(ConsentRecord, record_id)
    if record is None:
        raise NotFound(f"consent {record_id}")
    booking, team = _booking_and_team(session, principal, record)
    text = session.get(ConsentText, record.consent_text_id)
    if text is None:
        raise NotFound(f"consent text {record.consent_text_id}")
    values = {
        "team": team.name,
        "organisation": team.organisation,
        "retention_days": str(retention_days),
        "recipients": "; ".join(record.recipients) if record.kind is ConsentKind.CONFIDENTIALITY_RELEASE else "",
    }
    summary, full, binding = text.render(**values)
    verified = sha256_hex("\n\n".join([summary, full, binding])) == record.text_sha256
    german_summary, german_full, _ = _german(session, text).render(**values)
    audit(session, principal.actor, "consent.read", "consent_record", record.id, team_id=team.id)
    assert record.id is not None
    given_at = _utc(record.given_at)
    assert given_at is not None
    body = ConsentJson(
        id=record.id, kind=str(record.kind), language=record.language, version=record.version,
        consent_text_id=record.consent_text_id, channel=record.channel, given_at=given_at,
        withdrawn_at=_utc(record.withdrawn_at), text_sha256=record.text_sha256, text_verified=verified,
        recipients=list(record.recipients), intake_reference=booking.reference if booking else None,
        team=team.slug, summary=summary, full_text=full, binding_de=binding,
    )
    document = ConsentDocument(
        kind=body.kind, language=body.language, version=body.version, channel=body.channel,
        given_at=given_at, text_sha256=body.text_sha256, summary=summary, full_text=full,
        binding_de=binding, german_summary=german_summary, german_full_text=german_full,
        reference=body.intake_reference, team=team.name, recipients=body.recipients,
        withdrawn_at=body.withdrawn_at, text_verified=verified,
    )
    return body, document


def consent_pdf(session: Session, principal: Principal, record_id: int, retention_days: int) -> tuple[str, bytes]:
    body, document = consent_json(session, principal, record_id, retention_days)
    name = f"einwilligung-{body.intake_reference or body.id}-{body.kind}.pdf"
    return name, render_consent_pdf(document)
