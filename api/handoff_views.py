"""The handoff inbox: open requests of a team and a reply delivered into the person's chat."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel
from sqlmodel import Session, col, select

from api.auth import Principal
from core.audit import audit
from core.clock import utcnow
from core.crypto import FieldCipher
from core.errors import InvalidTransition, NotFound
from core.handoff import HandoffRequest, HandoffStatus
from core.municipality import Team
from core.outbox import OutboxKind, OutboxMessage, enqueue


class Handoff(BaseModel):
    id: int
    team: str
    language: str
    topic: str | None
    status: HandoffStatus
    question: str | None
    reply: str | None
    created_at: datetime
    answered_at: datetime | None


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _view(handoff: HandoffRequest, team: Team, cipher: FieldCipher) -> Handoff:
    assert handoff.id is not None
    created = _utc(handoff.created_at)
    assert created is not None
    return Handoff(
        id=handoff.id, team=team.slug, language=handoff.language, topic=handoff.topic, status=handoff.status,
        question=cipher.decrypt(handoff.question_enc), reply=cipher.decrypt(handoff.reply_enc),
        created_at=created, answered_at=_utc(handoff.answered_at),
    )


def list_handoffs(
    session: Session, principal: Principal, cipher: FieldCipher, status: HandoffStatus | None = HandoffStatus.OPEN
) -> list[Handoff]:
    statement = select(HandoffRequest, Team).join(Team, col(Team.id) == col(HandoffRequest.team_id))
    if principal.team_ids is not None:
        statement = statement.where(col(HandoffRequest.team_id).in_(principal.team_ids))
    if status is not None:
        statement = statement.where(HandoffRequest.status == status)
    rows = list(session.exec(statement.order_by(col(HandoffRequest.created_at))))
    if rows:
        audit(session, principal.actor, "handoff.list", "handoff", ",".join(str(h.id) for h, _ in rows)[:64],
              ids=[h.id for h, _ in rows])
    return [_view(h, t, cipher) for h, t in rows]


def _visible(session: Session, principal: Principal, handoff_id: int) -> tuple[HandoffRequest, Team]:
    handoff = session.get(HandoffRequest, handoff_id)
    team = session.get(Team, handoff.team_id) if handoff else None
    if handoff is None or team is None or not principal.sees_team(handoff.team_id):
        raise NotFound(f"handoff {handoff_id}")
    return handoff, team


def get_handoff(session: Session, principal: Principal, cipher: FieldCipher, handoff_id: int) -> Handoff:
    handoff, team = _visible(session, principal, handoff_id)
    audit(session, principal.actor, "handoff.read", "handoff", handoff.id, team_id=team.id)
    return _view(handoff, team, cipher)


def reply_to_handoff(
    session: Session, principal: Principal, cipher: FieldCipher, handoff_id: int, text: str
) -> tuple[Handoff, OutboxMessage | None]:
    """Store the reply (encrypted) and queue it for the person's chat (Telegram or web inbox)."""
    handoff, team = _visible(session, principal, handoff_id)
    if handoff.status is HandoffStatus.CLOSED:
        raise InvalidTransition("the request is closed")
    if handoff.person_id is None:
        raise InvalidTransition("the person has deleted their data; a reply cannot be delivered")
    previous = session.exec(
        select(OutboxMessage).where(col(OutboxMessage.dedupe_key).startswith(f"handoff-reply:{handoff.id}:"))
    ).all()
    handoff.reply_enc = cipher.encrypt(text.strip())
    handoff.reply_machine_translated = False
    handoff.status = HandoffStatus.ANSWERED
    handoff.answered_at = utcnow()
    session.add(handoff)
    session.flush()
    message = enqueue(
        session, OutboxKind.HANDOFF_REPLY, f"handoff-reply:{handoff.id}:{len(previous) + 1}", utcnow(),
        person_id=handoff.person_id, handoff_id=handoff.id,
    )
    audit(session, principal.actor, "handoff.replied", "handoff", handoff.id, team_id=team.id)
    return _view(handoff, team, cipher), message


def close_handoff(session: Session, principal: Principal, handoff_id: int) -> None:
    handoff, team = _visible(session, principal, handoff_id)
    handoff.status = HandoffStatus.CLOSED
    session.add(handoff)
    audit(session, principal.actor, "handoff.closed", "handoff", handoff.id, team_id=team.id)
