"""Webhooks to teams: signed POSTs from the durable outbox, at least once, with back-off.

An event row (kind WEBHOOK, payload {event, team_id, ...}) is fanned out into one delivery
row per subscribed endpoint (payload {endpoint_id, body, idempotency_key}); delivery rows are
claimed, POSTed with an HMAC-SHA256 signature over f"{timestamp}.{body}", and on failure
pushed back exponentially until MAX_ATTEMPTS. Receivers deduplicate on Idempotency-Key.
The bot only ever writes a row: a slow or failing endpoint cannot slow it down.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from anyio import to_thread
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, select

from core.booking import Booking
from core.clock import utcnow
from core.metrics import WEBHOOK_DELIVERIES
from core.columns import encrypted_column, json_column
from core.crypto import FieldCipher
from core.db import transaction
from core.errors import InvalidInput, NotFound
from core.handoff import HandoffRequest
from core.municipality import Team
from core.outbox import OutboxKind, OutboxMessage, enqueue, mark_sent

log = logging.getLogger(__name__)

EVENTS = ("intake.created", "intake.updated", "intake.cancelled", "handoff.created")
SIGNATURE_HEADER = "X-Lotse-Signature"
TIMESTAMP_HEADER = "X-Lotse-Timestamp"
EVENT_HEADER = "X-Lotse-Event"
MAX_ATTEMPTS = 10
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=6)
TIMEOUT = httpx.Timeout(5.0)
CONCURRENCY = 8
LEASE = timedelta(minutes=2)
DELIVERY_MARK = ">"  # in the dedupe key of delivery rows, never in event rows


class WebhookEndpoint(SQLModel, table=True):
    __tablename__ = "webhook_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", ondelete="CASCADE", index=True)
    url: str = Field(max_length=500)
    secret_enc: bytes | None = Field(default=None, sa_column=encrypted_column())
    events: list[str] = Field(default_factory=list, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow)
    disabled_at: datetime | None = None


def register_endpoint(
    session: Session, cipher: FieldCipher, team_id: int, url: str, events: list[str] | None = None,
    allow_http: bool = False,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret, shown once (kept encrypted to sign later)."""
    parts = urlsplit(url)
    if parts.scheme not in (("https", "http") if allow_http else ("https",)) or not parts.netloc:
        raise InvalidInput("url: must be an https:// URL")
    chosen = events or list(EVENTS)
    unknown = sorted(set(chosen) - set(EVENTS))
    if unknown:
        raise InvalidInput(f"events: unknown {', '.join(unknown)}")
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(team_id=team_id, url=url, secret_enc=cipher.encrypt(secret), events=chosen)
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def disable_endpoint(session: Session, team_id: int, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.team_id != team_id or endpoint.disabled_at is not None:
        raise NotFound(f"webhook {endpoint_id}")
    endpoint.disabled_at = utcnow()
    session.add(endpoint)
    return endpoint


def announce_handoff(session: Session, handoff: HandoffRequest) -> None:
    """Tell the team's endpoints that a person asked to talk to someone."""
    enqueue(
        session, OutboxKind.WEBHOOK, f"webhook:handoff.created:{handoff.id}", utcnow(),
        event="handoff.created", team_id=handoff.team_id, handoff_id=handoff.id,
    )


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (also used in tests): constant-time comparison."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at 6 h."""
    delay = BASE_DELAY * (2 ** max(0, attempts - 1))
    return delay if delay < MAX_DELAY else MAX_DELAY


def _event_data(session: Session, message: OutboxMessage) -> dict[str, object]:
    """Ids and state only, never personal data: receivers fetch details through the API."""
    data: dict[str, object] = {"team_id": message.payload.get("team_id")}
    team = session.get(Team, message.payload.get("team_id"))
    if team is not None:
        data["team"] = team.slug
    if message.booking_id is not None:
        booking = session.get(Booking, message.booking_id)
        if booking is not None:
            data["intake"] = {
                "id": booking.id, "reference": booking.reference, "status": str(booking.status),
                "starts_at": booking.starts_at.isoformat(), "ends_at": booking.ends_at.isoformat(),
                "language": booking.language, "interpreter_language": booking.interpreter_language,
                "topic": booking.topic,
            }
    handoff_id = message.payload.get("handoff_id")
    if isinstance(handoff_id, int):
        handoff = session.get(HandoffRequest, handoff_id)
        if handoff is not None:
            data["handoff"] = {"id": handoff.id, "language": handoff.language, "topic": handoff.topic,
                               "status": str(handoff.status)}
    return data


def _claim(session: Session, deliveries: bool, now: datetime, limit: int) -> list[OutboxMessage]:
    """Like core.outbox.claim_due, restricted to event rows or to delivery rows."""
    split = col(OutboxMessage.dedupe_key).contains(DELIVERY_MARK)
    statement = (
        select(OutboxMessage)
        .where(
            OutboxMessage.kind == OutboxKind.WEBHOOK,
            split if deliveries else ~split,
            col(OutboxMessage.sent_at).is_(None),
            col(OutboxMessage.cancelled_at).is_(None),
            OutboxMessage.due_at <= now,
            (col(OutboxMessage.claimed_at).is_(None)) | (col(OutboxMessage.claimed_at) < now - LEASE),
        )
        .order_by(col(OutboxMessage.due_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(session.exec(statement))
    token = uuid.uuid4().hex
    for row in rows:
        row.claimed_at, row.claim_token = now, token
        row.attempts += 1
        session.add(row)
    session.flush()
    return rows


def fan_out(session: Session, now: datetime | None = None) -> int:
    """Turn due event rows into one delivery row per subscribed endpoint."""
    now = now or utcnow()
    created = 0
    for message in _claim(session, deliveries=False, now=now, limit=200):
        event = str(message.payload.get("event"))
        endpoints = session.exec(
            select(WebhookEndpoint).where(WebhookEndpoint.team_id == message.payload.get("team_id"))
        ).all()
        body = json.dumps(
            {"id": message.dedupe_key, "event": event, "created_at": message.due_at.isoformat(),
             "data": _event_data(session, message)},
            separators=(",", ":"), sort_keys=True,
        )
        for endpoint in endpoints:
            if endpoint.disabled_at is not None or event not in endpoint.events:
                continue
            if enqueue(
                session, OutboxKind.WEBHOOK, f"{message.dedupe_key[:100]}{DELIVERY_MARK}{endpoint.id}", now,
                booking_id=message.booking_id, endpoint_id=endpoint.id, event=event, body=body,
                idempotency_key=message.dedupe_key,
            ):
                created += 1
        mark_sent(session, message)
    return created


@dataclass(frozen=True)
class _Attempt:
    message_id: int
    claim_token: str
    attempts: int
    url: str
    secret: str
    event: str
    body: str
    idempotency_key: str


def _claim_attempts(engine: Engine, cipher: FieldCipher, now: datetime) -> list[_Attempt]:
    with transaction(engine) as session:
        fan_out(session, now)
    attempts: list[_Attempt] = []
    with transaction(engine) as session:
        for message in _claim(session, deliveries=True, now=now, limit=100):
            endpoint_id = message.payload.get("endpoint_id")
            endpoint = session.get(WebhookEndpoint, endpoint_id) if isinstance(endpoint_id, int) else None
            if endpoint is None or endpoint.disabled_at is not None:
                message.cancelled_at = now
                continue
            assert message.id is not None and message.claim_token is not None
            attempts.append(_Attempt(
                message.id, message.claim_token, message.attempts, endpoint.url,
                cipher.decrypt(endpoint.secret_enc) or "", str(message.payload.get("event")),
                str(message.payload.get("body")), str(message.payload.get("idempotency_key")),
            ))
    return attempts


def _settle(engine: Engine, attempt: _Attempt, error: str | None, now: datetime) -> bool:
    with transaction(engine) as session:
        message = session.get(OutboxMessage, attempt.message_id)
        if message is None or message.claim_token != attempt.claim_token:
            return False
        if error is None:
            return mark_sent(session, message)
        message.last_error = error[:300]
        message.claimed_at = None
        message.claim_token = None
        if message.attempts >= MAX_ATTEMPTS:
            message.cancelled_at = now
            log.warning("webhook given up after %d attempts outbox=%s", message.attempts, message.id)
        else:
            message.due_at = now + backoff(message.attempts)
        session.add(message)
        return False


async def _post(http: httpx.AsyncClient, attempt: _Attempt, now: datetime) -> str | None:
    timestamp = str(int(now.timestamp()))
    body = attempt.body.encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(attempt.secret, timestamp, body),
        TIMESTAMP_HEADER: timestamp,
        EVENT_HEADER: attempt.event,
        "Idempotency-Key": attempt.idempotency_key,
        "User-Agent": "Lotse-Webhook/1",
    }
    try:
        response = await http.post(attempt.url, content=body, headers=headers, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}"
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}"


async def deliver_due_webhooks(
    engine: Engine, http: httpx.AsyncClient, cipher: FieldCipher, now: datetime | None = None
) -> int:
    """One run of the delivery job: returns how many deliveries succeeded."""
    moment = now or utcnow()
    attempts = await to_thread.run_sync(_claim_attempts, engine, cipher, moment)
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(attempt: _Attempt) -> bool:
        async with limit:
            error = await _post(http, attempt, moment)
        WEBHOOK_DELIVERIES.labels("ok" if error is None else "failed").inc()
        if error is not None:
            log.info("webhook attempt failed outbox=%s attempt=%d error=%s", attempt.message_id, attempt.attempts, error)
        return await to_thread.run_sync(_settle, engine, attempt, error, moment)

    results = await asyncio.gather(*(one(a) for a in attempts))
    return sum(results)
