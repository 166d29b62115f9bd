"""Scheduled work, wired once: the job bodies live with the data they touch."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from anyio import to_thread
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.notices import TelegramSend, deliver_due
from bot.services import BotServices
from core.clock import utcnow
from core.db import transaction
from core.intake import expire_holds
from core.person import expire_processed
from core.retention import purge

log = logging.getLogger(__name__)


def build_scheduler(
    services: BotServices,
    telegram_send: TelegramSend | None,
    webhooks: Callable[[], Awaitable[int]] | None = None,
) -> AsyncIOScheduler:
    """Due work of the one scheduler process; `webhooks` delivers team webhooks (api wires it)."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    settings = services.settings

    async def deliver() -> None:
        sent = await deliver_due(
            services.db, services.cipher, services.strings, telegram_send,
            timedelta(seconds=settings.outbox_lease_seconds),
        )
        if sent:
            log.info("delivered %d due messages", sent)

    def expire() -> None:
        with transaction(services.db) as session:
            expire_holds(session)

    def retention() -> None:
        with transaction(services.db) as session:
            counts = purge(session, settings.retention_conversation_days, settings.retention_closed_intake_days)
        log.info("retention purge: %s", counts)

    def forget_old_replies() -> None:
        with transaction(services.db) as session:
            counts = expire_processed(
                session,
                utcnow(),
                keep_replies=timedelta(minutes=settings.reply_copy_minutes),
                keep_keys=timedelta(days=settings.replay_key_days),
            )
        if any(counts.values()):
            log.info("expired reply copies and update keys: %s", counts)

    async def in_thread_forget() -> None:
        await to_thread.run_sync(forget_old_replies)

    async def in_thread_expire() -> None:
        await to_thread.run_sync(expire)

    async def in_thread_retention() -> None:
        await to_thread.run_sync(retention)

    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 60}
    scheduler.add_job(deliver, "interval", seconds=10, id="deliver_due", **common)
    scheduler.add_job(in_thread_expire, "interval", minutes=1, id="expire_holds", **common)
    if webhooks is not None:
        scheduler.add_job(webhooks, "interval", seconds=15, id="deliver_webhooks", **common)
    scheduler.add_job(in_thread_forget, "interval", minutes=10, id="expire_reply_copies", **common)
    scheduler.add_job(in_thread_retention, "cron", hour=3, minute=15, id="retention_purge", **common)
    return scheduler
