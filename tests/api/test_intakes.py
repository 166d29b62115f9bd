"""Intakes: list and filters, detail with audit, each status change and the person's notice."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.notices import deliver_due
from bot.strings import Strings
from core.audit import AuditEvent
from core.booking import Booking, BookingStatus, free_slots
from core.crypto import FieldCipher
from core.outbox import OutboxKind, OutboxMessage
from core.person import WebInboxMessage
from tests.api.conftest import TestClient, auth, make_intake, team, token_for

pytestmark = pytest.mark.db


class FakeTranslator:
    """Stands in for argostranslate at its boundary: ar -> de only."""

    def supports(self, source: str, target: str) -> bool:
        return (source, target) == ("ar", "de")

    def translate(self, text: str, source: str, target: str) -> str:
        return f"[de] {len(text)} Zeichen"


def _audit(engine: Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


def test_list_filters_and_audit(client: TestClient, db: Session, cipher: FieldCipher, api_engine: Engine) -> None:
    arabic = make_intake(db, cipher, language="ar", index=0, topic="work")
    ukrainian = make_intake(db, cipher, language="uk", index=1, topic="residence_permit", own_words=None, interpreter=False)
    token = token_for(db)
    rows = client.get("/api/v1/intakes", headers=auth(token)).json()
    assert [r["id"] for r in rows] == [arabic.booking.id, ukrainian.booking.id]
    assert rows[0]["display_name"] == "Hamed" and rows[0]["interpreter_language"] == "ar"
    assert [r["id"] for r in client.get("/api/v1/intakes?language=uk", headers=auth(token)).json()] == [ukrainian.booking.id]
    assert [r["id"] for r in client.get("/api/v1/intakes?topic=work", headers=auth(token)).json()] == [arabic.booking.id]
    assert client.get("/api/v1/intakes?status=confirmed", headers=auth(token)).json() == []
    day = ukrainian.booking.starts_at.date().isoformat()
    in_range = client.get(f"/api/v1/intakes?from={day}&to={day}", headers=auth(token)).json()
    assert ukrainian.booking.id in [r["id"] for r in in_range]
    assert client.get("/api/v1/intakes?from=2000-01-01&to=2000-01-02", headers=auth(token)).json() == []
    listed = _audit(api_engine, "intake.list")
    assert listed and listed[0].actor.startswith("credential:") and arabic.booking.id in listed[0].detail["ids"]


def test_detail_has_consents_own_words_translation_and_is_audited(
    client: TestClient, app, db: Session, cipher: FieldCipher, api_engine: Engine  # type: ignore[no-untyped-def]
) -> None:
    made = make_intake(db, cipher)
    token = token_for(db)
    app.state.translator = FakeTranslator()
    detail = client.get(f"/api/v1/intakes/{made.booking.id}", headers=auth(token)).json()
    assert detail["phone"] == "+49 170 1234567"
    assert detail["own_words"] == {"text": "أحتاج مساعدة في تصريح العمل", "language": "ar",
                                   "german": "[de] 27 Zeichen", "machine_translated": True}
    [consent] = detail["consents"]
    assert consent["kind"] == "data_protection" and consent["version"] == 1 and consent["language"] == "ar"
    assert len(consent["text_sha256"]) == 64
    events = _audit(api_engine, "intake.read")
    assert [(e.subject_id, e.actor.split(":")[0]) for e in events] == [(str(made.booking.id), "credential")]


def test_detail_without_a_model_has_no_translation(client: TestClient, db: Session, cipher: FieldCipher) -> None:
    made = make_intake(db, cipher)
    detail = client.get(f"/api/v1/intakes/{made.booking.id}", headers=auth(token_for(db))).json()
    assert detail["own_words"]["german"] is None and detail["own_words"]["machine_translated"] is False


@pytest.mark.parametrize(
    ("path", "before", "after"),
    [
        ("acknowledge", [], BookingStatus.ACKNOWLEDGED),
        ("confirm", [], BookingStatus.CONFIRMED),
        ("decline", [], BookingStatus.DECLINED),
        ("complete", ["confirm"], BookingStatus.COMPLETED),
        ("no-show", ["confirm"], BookingStatus.NO_SHOW),
    ],
)
async def test_each_transition_notifies_the_person_in_their_language(
    client: TestClient, db: Session, cipher: FieldCipher, api_engine: Engine,
    path: str, before: list[str], after: BookingStatus,
) -> None:
    made = make_intake(db, cipher, language="ar")
    token = token_for(db)
    for step in before:
        assert client.post(f"/api/v1/intakes/{made.booking.id}/{step}", headers=auth(token)).status_code == 200
    body = {"reason": "Das Team ist krank"} if path == "decline" else None
    response = client.post(f"/api/v1/intakes/{made.booking.id}/{path}", headers=auth(token), json=body)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == after.value
    with Session(api_engine) as session:
        notices = session.exec(select(OutboxMessage).where(
            OutboxMessage.kind == OutboxKind.STATUS_NOTICE, OutboxMessage.booking_id == made.booking.id)).all()
        assert notices[-1].payload["status"] == after.value
        events = session.exec(select(OutboxMessage).where(
            OutboxMessage.kind == OutboxKind.WEBHOOK, col(OutboxMessage.dedupe_key).contains(after.value))).all()
        assert events and events[0].payload["event"] == "intake.updated"
    strings = Strings()
    await deliver_due(api_engine, cipher, strings, None)
    with Session(api_engine) as session:
        inbox = session.exec(select(WebInboxMessage).where(WebInboxMessage.person_id == made.person_id)).all()
    texts = [str(m.payload["text"]) for m in inbox]
    assert any(strings.get("ar", f"status.{after.value}") in t for t in texts), texts
    if path == "decline":
        assert any("Das Team ist krank" in t for t in texts)


def test_invalid_transition_is_409_problem(client: TestClient, db: Session, cipher: FieldCipher) -> None:
    made = make_intake(db, cipher)
    token = token_for(db)
    response = client.post(f"/api/v1/intakes/{made.booking.id}/complete", headers=auth(token))
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_transition"


def test_validation_errors_name_the_field(client: TestClient, db: Session, cipher: FieldCipher) -> None:
    made = make_intake(db, cipher)
    token = token_for(db)
    response = client.post(f"/api/v1/intakes/{made.booking.id}/decline", headers=auth(token), json={"reason": "x" * 501})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["reason"]
    missing = client.post(f"/api/v1/intakes/{made.booking.id}/decline", headers=auth(token), json={"reason": " "})
    assert missing.status_code == 422 and "reason" in missing.json()["detail"]
    bad_date = client.get("/api/v1/intakes?from=gestern", headers=auth(token))
    assert bad_date.status_code == 422 and bad_date.json()["errors"][0]["field"] == "from"


def test_propose_another_time_holds_it_and_offers_it_in_the_chat(
    client: TestClient, db: Session, cipher: FieldCipher, api_engine: Engine
) -> None:
    made = make_intake(db, cipher)
    token = token_for(db)
    other = free_slots(db, team(db))[3]
    db.commit()
    taken = client.post(f"/api/v1/intakes/{made.booking.id}/propose", headers=auth(token),
                        json={"starts_at": made.booking.starts_at.isoformat()})
    assert taken.status_code == 409
    naive = client.post(f"/api/v1/intakes/{made.booking.id}/propose", headers=auth(token), json={"starts_at": "2030-01-01T10:00:00"})
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "starts_at"
    response = client.post(f"/api/v1/intakes/{made.booking.id}/propose", headers=auth(token),
                           json={"starts_at": other.isoformat()})
    assert response.status_code == 201, response.text
    with Session(api_engine) as session:
        old = session.get(Booking, made.booking.id)
        hold = session.get(Booking, response.json()["id"])
        assert old is not None and old.status is BookingStatus.DECLINED
        assert hold is not None and hold.status is BookingStatus.HELD and hold.person_id == made.person_id
        offer = session.exec(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.WAITLIST_OFFER)).one()
        assert offer.booking_id == hold.id
