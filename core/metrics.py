"""Prometheus metrics: the counters and histograms every layer records into, and the
collector that reads database-backed figures (bookings, outbox backlog) at scrape time.

Labels never carry personal data: channels, intents, statuses and outcomes only.
With several processes behind one port (uvicorn --workers), set PROMETHEUS_MULTIPROC_DIR
to an empty directory shared by them; `render()` then merges every process's figures.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from core.clock import utcnow

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
NLU_BUCKETS = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5)
LAG_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0)

MESSAGES_IN = Counter(
    "lotse_messages_received", "Inbound user events (messages, button presses, commands)", ["channel"]
)
MESSAGES_OUT = Counter("lotse_messages_sent", "Messages delivered to people", ["channel", "kind"])
DUPLICATES = Counter("lotse_updates_replayed", "Inbound events seen before (replays, retries)", ["channel"])
REPLY_LATENCY = Histogram(
    "lotse_reply_latency_seconds",
    "From an inbound event's arrival to its last reply handed to the channel",
    ["channel"],
    buckets=LATENCY_BUCKETS,
)
TURN_ERRORS = Counter("lotse_turn_errors", "Inbound events whose handling failed", ["channel"])
SEND_ERRORS = Counter("lotse_send_errors", "Replies the channel refused or could not take", ["channel"])
NLU_LATENCY = Histogram(
    "lotse_nlu_parse_seconds", "Intent recognition time per message", buckets=NLU_BUCKETS
)
NLU_PARSES = Counter("lotse_nlu_parses", "Messages classified, by resulting intent", ["intent"])
NLU_FALLBACKS = Counter(
    "lotse_nlu_fallbacks", "Messages the NLU was not sure about (low confidence, ambiguous)", ["reason"]
)
BOOKING_EVENTS = Counter(
    "lotse_booking_events", "Booking changes made by people or teams", ["event"]
)
REMINDER_LAG = Histogram(
    "lotse_outbox_lag_seconds",
    "Due time to actual delivery of reminders and notices",
    ["kind"],
    buckets=LAG_BUCKETS,
)
WEBHOOK_DELIVERIES = Counter(
    "lotse_webhook_deliveries", "Outgoing webhook attempts by result", ["result"]
)


class DatabaseFigures(Collector):
    """Figures that live in the database, so every process reports the same truth."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from core.booking import Booking  # local: core.metrics is imported by low-level modules
        from core.outbox import OutboxMessage

        up = GaugeMetricFamily("lotse_database_up", "1 when the database answered the scrape")
        try:
            with Session(self.engine) as session:
                bookings = session.exec(
                    select(Booking.status, func.count()).group_by(Booking.status)
                ).all()
                now = utcnow()
                pending = session.exec(
                    select(OutboxMessage.kind, func.count(), func.min(OutboxMessage.due_at))
                    .where(
                        col(OutboxMessage.sent_at).is_(None),
                        col(OutboxMessage.cancelled_at).is_(None),
                        OutboxMessage.due_at <= now,
                    )
                    .group_by(OutboxMessage.kind)
                ).all()
        except SQLAlchemyError:
            log.warning("metrics: database figures unavailable")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        booked = GaugeMetricFamily("lotse_bookings", "Bookings by status", labels=["status"])
        for status, count in bookings:
            booked.add_metric([str(status)], count)
        yield booked
        backlog = GaugeMetricFamily("lotse_outbox_due", "Due, unsent outbox rows", labels=["kind"])
        oldest = GaugeMetricFamily(
            "lotse_outbox_oldest_due_seconds",
            "Age of the oldest due, unsent outbox row (reminder lag now)",
            labels=["kind"],
        )
        for kind, count, first_due in pending:
            backlog.add_metric([str(kind)], count)
            oldest.add_metric([str(kind)], _age(first_due, now))
        yield backlog
        yield oldest


def _age(moment: datetime | None, now: datetime) -> float:
    if moment is None:
        return 0.0
    if moment.tzinfo is None:  # SQLite returns naive UTC from aggregates
        moment = moment.replace(tzinfo=now.tzinfo)
    return max(0.0, (now - moment).total_seconds())


def render(engine: Engine) -> tuple[bytes, str]:
    """The exposition text: this process (or all, in multiprocess mode) plus database figures."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    figures = CollectorRegistry()
    figures.register(DatabaseFigures(engine))
    return body + generate_latest(figures), CONTENT_TYPE_LATEST
