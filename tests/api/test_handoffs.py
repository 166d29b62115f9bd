"""The handoff inbox: a team's reply lands in the person's web-chat inbox."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.notices import deliver_due
from bot.strings import Strings
from core.crypto import FieldCipher
from core.handoff import HandoffRequest, HandoffStatus
from core.outbox import OutboxKind, OutboxMessage
from core.person import WebInboxMessage
from tests.api.conftest import OTHER_TEAM, TestClient, auth, make_intake, team, token_for

pytestmark = pytest.mark.db


def _handoff(db: Session, cipher: FieldCipher, person_id: int, slug: str = "dortmund-kim") -> HandoffRequest:
    request = HandoffRequest(person_id=person_id, team_id=team(db, slug).id, language="ar",  # type: ignore[arg-type]
                             topic="work", question_enc=cipher.encrypt("هل يمكنني العمل؟"))
    db.add(request)
    db.commit()
    return request


async def test_reply_is_queued_and_delivered_into_the_web_inbox(
    client: TestClient, db: Session, cipher: FieldCipher, api_engine: Engine
) -> None:
    made = make_intake(db, cipher)
    handoff = _handoff(db, cipher, made.person_id)
    token = token_for(db)
    [listed] = client.get("/api/v1/handoffs", headers=auth(token)).json()
    assert listed["question"] == "هل يمكنني العمل؟" and listed["status"] == "open"
    response = client.post(f"/api/v1/handoffs/{handoff.id}/reply", headers=auth(token),
                           json={"text": "Ja, mit Erlaubnis der Ausländerbehörde. Kommen Sie am Montag."})
    assert response.status_code == 200 and response.json()["status"] == "answered"
    with Session(api_engine) as session:
        row = session.exec(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.HANDOFF_REPLY)).one()
        assert row.person_id == made.person_id and row.payload == {"handoff_id": handoff.id}
        stored = session.get(HandoffRequest, handoff.id)
        assert stored is not None and b"Montag" not in (stored.reply_enc or b"")
    assert client.get("/api/v1/handoffs", headers=auth(token)).json() == []
    await deliver_due(api_engine, cipher, Strings(), None)
    with Session(api_engine) as session:
        inbox = session.exec(select(WebInboxMessage).where(WebInboxMessage.person_id == made.person_id)).all()
    replies = [m.payload for m in inbox if "Montag" in str(m.payload["text"])]
    assert replies and replies[0]["language"] == "ar"


def test_other_team_cannot_reply_and_validation(client: TestClient, db: Session, cipher: FieldCipher) -> None:
    made = make_intake(db, cipher)
    handoff = _handoff(db, cipher, made.person_id)
    stranger = token_for(db, slug=OTHER_TEAM)
    assert client.post(f"/api/v1/handoffs/{handoff.id}/reply", headers=auth(stranger), json={"text": "hi"}).status_code == 404
    token = token_for(db)
    empty = client.post(f"/api/v1/handoffs/{handoff.id}/reply", headers=auth(token), json={"text": ""})
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "text"
    with Session(db.get_bind()) as session:
        assert session.get(HandoffRequest, handoff.id).status is HandoffStatus.OPEN  # type: ignore[union-attr]
