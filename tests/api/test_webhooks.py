"""Webhooks against a small real receiver on 127.0.0.1: signature, timestamp, idempotency, back-off."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.clock import utcnow
from core.crypto import FieldCipher
from core.handoff import HandoffRequest
from core.outbox import OutboxKind, OutboxMessage
from core.webhook import (
    MAX_ATTEMPTS,
    announce_handoff,
    backoff,
    deliver_due_webhooks,
    verify_signature,
)
from tests.api.conftest import TestClient, auth, make_intake, team, token_for

pytestmark = pytest.mark.db


@dataclass
class Receiver:
    url: str
    statuses: list[int]  # answered in order; the last one repeats
    seen: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver("", [200])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.seen.append(({k.lower(): v for k, v in self.headers.items()}, body))
            status = state.statuses.pop(0) if len(state.statuses) > 1 else state.statuses[0]
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def _register(client: TestClient, token: str, url: str, events: list[str] | None = None) -> str:
    response = client.post("/api/v1/webhooks", headers=auth(token), json={"url": url, "events": events})
    assert response.status_code == 201, response.text
    return str(response.json()["secret"])


async def test_signed_delivery_with_backoff_and_one_idempotency_key(
    client: TestClient, db: Session, cipher: FieldCipher, api_engine: Engine, receiver: Receiver
) -> None:
    token = token_for(db)
    secret = _register(client, token, receiver.url, ["intake.created"])
    made = make_intake(db, cipher)
    receiver.statuses[:] = [500, 503, 200]
    t0 = utcnow() + timedelta(seconds=1)
    async with httpx.AsyncClient() as http:
        assert await deliver_due_webhooks(api_engine, http, cipher, now=t0) == 0
        assert len(receiver.seen) == 1
        assert await deliver_due_webhooks(api_engine, http, cipher, now=t0 + backoff(1) - timedelta(seconds=1)) == 0
        assert len(receiver.seen) == 1  # not yet due: back-off holds
        t1 = t0 + backoff(1)
        assert await deliver_due_webhooks(api_engine, http, cipher, now=t1) == 0
        t2 = t1 + backoff(2)
        assert backoff(2) == 2 * backoff(1)
        assert await deliver_due_webhooks(api_engine, http, cipher, now=t2) == 1
        assert await deliver_due_webhooks(api_engine, http, cipher, now=t2 + timedelta(days=1)) == 0
    assert len(receiver.seen) == 3
    keys = {headers["idempotency-key"] for headers, _ in receiver.seen}
    assert len(keys) == 1
    for (headers, body), moment in zip(receiver.seen, (t0, t1, t2), strict=True):
        assert headers["x-lotse-timestamp"] == str(int(moment.timestamp()))
        assert verify_signature(secret, headers["x-lotse-timestamp"], body, headers["x-lotse-signature"])
        assert not verify_signature("whsec_wrong", headers["x-lotse-timestamp"], body, headers["x-lotse-signature"])
    payload = json.loads(receiver.seen[-1][1])
    assert payload["event"] == "intake.created" and payload["data"]["intake"]["id"] == made.booking.id
    assert payload["id"] == keys.pop()
    assert "Hamed" not in receiver.seen[-1][1].decode()  # no personal data in webhooks


async def test_updates_and_handoffs_reach_subscribers_only(
    client: TestClient, db: Session, cipher: FieldCipher, api_engine: Engine, receiver: Receiver
) -> None:
    token = token_for(db)
    _register(client, token, receiver.url, ["intake.updated", "handoff.created"])
    made = make_intake(db, cipher)
    client.post(f"/api/v1/intakes/{made.booking.id}/acknowledge", headers=auth(token))
    handoff = HandoffRequest(person_id=made.person_id, team_id=team(db).id, language="ar")  # type: ignore[arg-type]
    db.add(handoff)
    db.flush()
    announce_handoff(db, handoff)
    db.commit()
    async with httpx.AsyncClient() as http:
        assert await deliver_due_webhooks(api_engine, http, cipher, now=utcnow() + timedelta(seconds=1)) == 2
    events = sorted(json.loads(body)["event"] for _, body in receiver.seen)
    assert events == ["handoff.created", "intake.updated"]  # intake.created not subscribed


async def test_gives_up_after_max_attempts(
    client: TestClient, db: Session, cipher: FieldCipher, api_engine: Engine, receiver: Receiver
) -> None:
    token = token_for(db)
    _register(client, token, receiver.url)
    make_intake(db, cipher)
    receiver.statuses[:] = [500]
    moment = utcnow() + timedelta(seconds=1)
    async with httpx.AsyncClient() as http:
        for attempt in range(1, MAX_ATTEMPTS + 2):
            await deliver_due_webhooks(api_engine, http, cipher, now=moment)
            moment += backoff(attempt)
    assert len(receiver.seen) == MAX_ATTEMPTS
    with Session(api_engine) as session:
        row = session.exec(select(OutboxMessage).where(col(OutboxMessage.dedupe_key).contains(">"))).one()
        assert row.cancelled_at is not None and row.last_error == "HTTP 500" and row.sent_at is None


async def test_unreachable_endpoint_is_retried_later(
    client: TestClient, db: Session, cipher: FieldCipher, api_engine: Engine
) -> None:
    token = token_for(db)
    _register(client, token, "http://127.0.0.1:9/nothing-listens")
    make_intake(db, cipher)
    async with httpx.AsyncClient() as http:
        assert await deliver_due_webhooks(api_engine, http, cipher, now=utcnow() + timedelta(seconds=1)) == 0
    with Session(api_engine) as session:
        row = session.exec(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.WEBHOOK,
                                                       col(OutboxMessage.dedupe_key).contains(">"))).one()
        assert row.attempts == 1 and row.last_error == "ConnectError" and row.claim_token is None


def test_webhook_registration_validates(client: TestClient, db: Session) -> None:
    token = token_for(db)
    bad = client.post("/api/v1/webhooks", headers=auth(token), json={"url": "ftp://x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "url"
    unknown = client.post("/api/v1/webhooks", headers=auth(token), json={"url": "https://x.example", "events": ["intake.eaten"]})
    assert unknown.status_code == 422 and "events" in unknown.json()["detail"]
    created = client.post("/api/v1/webhooks", headers=auth(token), json={"url": "https://x.example"}).json()
    assert [w["id"] for w in client.get("/api/v1/webhooks", headers=auth(token)).json()] == [created["id"]]
    assert "secret" not in client.get("/api/v1/webhooks", headers=auth(token)).json()[0]
    assert client.delete(f"/api/v1/webhooks/{created['id']}", headers=auth(token)).status_code == 204
    assert client.get("/api/v1/webhooks", headers=auth(token)).json() == []
