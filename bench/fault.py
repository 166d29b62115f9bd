"""`lotse bench fault`: mixed traffic while app processes and the scheduler are SIGKILLed and
restarted; then counts what was lost or doubled: replies, bookings, reminders."""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import uvloop  # the simulated world shares the cores: the same cheap loop as the app
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bench.deployment import deployment
from bench.processes import Environment, Service, fresh_database, spawn, wait_ready
from bench.simulator import FakeBotApi, Simulator, User
from core.booking import Booking
from core.clock import utcnow
from core.crypto import FieldCipher
from core.db import create_database_engine
from core.outbox import OutboxKind, OutboxMessage
from core.person import ChannelIdentity, WebInboxMessage
from core.settings import Settings

LEASE_SECONDS = 20  # how soon a reminder claimed by a killed scheduler is taken over


@dataclass
class FaultConfig:
    database_url: str = ""
    duration: float = 600.0
    rate: float = 100.0
    users: int = 2500
    app_kill_every: float = 60.0
    scheduler_kill_every: float = 100.0
    booking_share: float = 0.25
    telegram_share: float = 0.6
    work_dir: Path | None = None
    model_path: Path | None = None  # an NLU artefact to reuse (trained here when missing or stale)
    seed: int = 11


@dataclass
class FaultReport:
    database: str
    duration_s: float
    app_kills: int
    scheduler_kills: int
    restart_ready_s: list[float]
    events_answered: int
    delivery_retries: int
    errors: dict[str, int]
    replies_lost: int
    replies_duplicated: int
    gave_up: int
    bookings_confirmed: int
    bookings_in_database: int
    bookings_lost: int
    bookings_doubled: int
    bookings_without_confirmation: int
    reminders_due: int
    reminders_delivered: int
    reminders_received: int
    reminders_twice: int
    reminders_missing: int
    details: dict[str, list[str]] = field(default_factory=dict)


async def _chaos(config: FaultConfig, apps: list[Service], scheduler: Service, environment: Environment,
                 work: Path, stop_at: float, counts: dict[str, int], ready: list[float]) -> None:
    """Kill one app process (in turn) every app_kill_every s and the scheduler every
    scheduler_kill_every s, at a random moment within the period; restart at once. The
    schedule does not wait for a restart to be ready (that is measured on the side)."""
    rng = random.Random(config.seed)
    next_app = time.monotonic() + rng.uniform(0.3, 1.0) * config.app_kill_every
    next_scheduler = time.monotonic() + rng.uniform(0.3, 1.0) * config.scheduler_kill_every
    restarts: list[asyncio.Task[None]] = []

    async def measure(service: Service) -> None:
        ready.append(await asyncio.to_thread(wait_ready, service, 120.0))

    turn = 0
    while time.monotonic() < stop_at - 15:  # the last seconds run without faults, to settle
        now = time.monotonic()
        if now >= next_app:
            index = turn % len(apps)
            turn += 1
            apps[index].kill()
            counts["app_kills"] += 1
            apps[index] = spawn(environment, "web", apps[index].port, work / "logs")
            restarts.append(asyncio.create_task(measure(apps[index])))
            next_app = now + rng.uniform(0.6, 1.4) * config.app_kill_every
        if now >= next_scheduler:
            scheduler.kill()
            counts["scheduler_kills"] += 1
            replacement = spawn(environment, "scheduler", scheduler.port, work / "logs")
            scheduler.process, scheduler.spawned_at = replacement.process, replacement.spawned_at
            restarts.append(asyncio.create_task(measure(scheduler)))
            next_scheduler = now + rng.uniform(0.6, 1.4) * config.scheduler_kill_every
        await asyncio.sleep(0.2)
    await asyncio.gather(*restarts)


def _pull_reminders_forward(engine, until: float) -> None:  # type: ignore[no-untyped-def]
    """Reminders are due 24 h and 2 h before the slot; make them due now, during the run."""
    while time.monotonic() < until:
        with Session(engine) as session:
            session.execute(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.kind) == OutboxKind.REMINDER,
                    col(OutboxMessage.sent_at).is_(None),
                    col(OutboxMessage.cancelled_at).is_(None),
                    OutboxMessage.due_at > utcnow(),
                )
                .values(due_at=utcnow())
            )
            session.commit()
        time.sleep(3)


def _wait_for_reminders(engine, timeout: float) -> int:  # type: ignore[no-untyped-def]
    """Until every due reminder is marked sent (a killed scheduler's claim runs out first)."""
    deadline = time.monotonic() + timeout
    while True:
        with Session(engine) as session:
            open_rows = session.exec(
                select(func.count()).select_from(OutboxMessage).where(
                    col(OutboxMessage.kind) == OutboxKind.REMINDER,
                    col(OutboxMessage.sent_at).is_(None),
                    col(OutboxMessage.cancelled_at).is_(None),
                    OutboxMessage.due_at <= utcnow(),
                )
            ).one()
        if open_rows == 0 or time.monotonic() > deadline:
            return int(open_rows)
        time.sleep(1)


def _person_of(session: Session, cipher: FieldCipher, user: User) -> int | None:
    address = str(user.ident) if user.channel == "telegram" else user.token
    digest = cipher.lookup_hash(f"{user.channel}:{address}")
    identity = session.exec(select(ChannelIdentity).where(ChannelIdentity.external_hash == digest)).first()
    return identity.person_id if identity else None


def _verify(engine, settings: Settings, simulator: Simulator, fake: FakeBotApi, report: FaultReport) -> None:  # type: ignore[no-untyped-def]
    cipher = FieldCipher(settings.encryption_keys.get_secret_value(), settings.secret_key.get_secret_value())
    confirmed = simulator.results.booked
    details = report.details
    with Session(engine) as session:
        for user in simulator.users:
            if user.events == 0:
                continue
            person = _person_of(session, cipher, user)
            bookings = list(session.exec(select(Booking).where(Booking.person_id == person))) if person else []
            was_confirmed = user.ident in confirmed[user.channel]
            report.bookings_in_database += len(bookings)
            if was_confirmed and not bookings:
                report.bookings_lost += 1
                details.setdefault("bookings_lost", []).append(f"{user.channel} {user.ident}")
            if len(bookings) > 1:
                report.bookings_doubled += 1
                details.setdefault("bookings_doubled", []).append(f"{user.channel} {user.ident}: {len(bookings)}")
            if bookings and not was_confirmed:
                report.bookings_without_confirmation += 1
            booking_ids = [b.id for b in bookings]
            if not booking_ids:
                continue
            reminders = list(session.exec(
                select(OutboxMessage).where(
                    col(OutboxMessage.booking_id).in_(booking_ids), col(OutboxMessage.kind) == OutboxKind.REMINDER
                )
            ))
            due = [r for r in reminders if r.cancelled_at is None and r.due_at <= utcnow()]
            delivered = [r for r in due if r.sent_at is not None]
            report.reminders_due += len(due)
            report.reminders_delivered += len(delivered)
            if user.channel == "telegram":
                received = len(fake.unsolicited.get(user.ident, []))
            else:
                received = len(list(session.exec(select(WebInboxMessage).where(WebInboxMessage.person_id == person))))
            report.reminders_received += received
            if received > len(delivered):
                report.reminders_twice += received - len(delivered)
                details.setdefault("reminders_twice", []).append(f"{user.channel} {user.ident}: {received} for {len(delivered)}")
            if received < len(due):
                report.reminders_missing += len(due) - received
                details.setdefault("reminders_missing", []).append(f"{user.channel} {user.ident}: {received} of {len(due)}")


async def _run(config: FaultConfig, work: Path, database_url: str) -> FaultReport:
    extra = {"LOTSE_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS)}
    async with deployment(database_url, work, 2, True, config.model_path, extra) as service:
        apps, scheduler, fake = service.apps, service.scheduler, service.fake
        assert scheduler is not None
        engine = create_database_engine(database_url)
        counts = {"app_kills": 0, "scheduler_kills": 0}
        ready: list[float] = []
        try:
            simulator = Simulator([a.url for a in apps], fake, config.users, config.telegram_share,
                                  config.booking_share, config.seed, retry_for=120.0)
            stop_at = time.monotonic() + config.duration
            async with simulator:
                chaos = asyncio.create_task(
                    _chaos(config, apps, scheduler, service.environment, work, stop_at, counts, ready)
                )
                puller = asyncio.create_task(asyncio.to_thread(_pull_reminders_forward, engine, stop_at - 15))
                await simulator.run(config.rate, config.duration, warmup=0.0)
                await chaos
                await puller
            await asyncio.to_thread(_wait_for_reminders, engine, LEASE_SECONDS + 60)
            await asyncio.sleep(2)
            results = simulator.results
            report = FaultReport(
                database="postgresql" if database_url.startswith("postgresql") else "sqlite",
                duration_s=config.duration,
                app_kills=counts["app_kills"],
                scheduler_kills=counts["scheduler_kills"],
                restart_ready_s=[round(r, 2) for r in ready],
                events_answered=len(results.outcomes),
                delivery_retries=sum(o.attempts - 1 for o in results.outcomes),
                errors=results.errors,
                replies_lost=len(results.lost),
                replies_duplicated=len(results.duplicated),
                gave_up=results.gave_up,
                bookings_confirmed=sum(len(v) for v in results.booked.values()),
                bookings_in_database=0, bookings_lost=0, bookings_doubled=0, bookings_without_confirmation=0,
                reminders_due=0, reminders_delivered=0, reminders_received=0, reminders_twice=0,
                reminders_missing=0,
                details={"replies_lost": results.lost[:20], "replies_duplicated": results.duplicated[:20]},
            )
            await asyncio.to_thread(_verify, engine, service.settings, simulator, fake, report)
            return report
        finally:
            engine.dispose()


def run_fault(config: FaultConfig) -> FaultReport:
    work = config.work_dir or Path(tempfile.mkdtemp(prefix="lotse-fault-"))
    work.mkdir(parents=True, exist_ok=True)
    with fresh_database(config.database_url, work) as database_url:
        return uvloop.run(_run(config, work, database_url))


def describe(report: FaultReport) -> str:
    return "\n".join(
        [
            f"fault run: {report.database}, {report.duration_s:.0f} s, 2 app processes + 1 scheduler",
            f"  SIGKILLs        app {report.app_kills}, scheduler {report.scheduler_kills}; "
            f"restart to /ready {report.restart_ready_s} s",
            f"  events          {report.events_answered} answered, {report.delivery_retries} redeliveries, "
            f"gave up {report.gave_up}",
            f"  replies         lost {report.replies_lost}, sent twice {report.replies_duplicated}",
            f"  bookings        confirmed {report.bookings_confirmed}, in database {report.bookings_in_database}, "
            f"lost {report.bookings_lost}, doubled {report.bookings_doubled}, "
            f"booked but confirmation unseen {report.bookings_without_confirmation}",
            f"  reminders       due {report.reminders_due}, marked sent {report.reminders_delivered}, "
            f"received {report.reminders_received}, twice {report.reminders_twice}, missing {report.reminders_missing}",
            f"  errors seen     {report.errors or 'none'}",
        ]
        + [f"  {key}: {values}" for key, values in report.details.items() if values]
    )


def to_json(report: FaultReport) -> str:
    return json.dumps(asdict(report), indent=2, ensure_ascii=False)

