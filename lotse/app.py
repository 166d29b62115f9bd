"""The composition root: builds every part from one Settings object and wires them together."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from anyio import to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.engine import Engine
from telegram.ext import Application

from api.app import include_api
from api.health import router as health_router
from api.links import router as links_router
from bot.engine import DialogueEngine
from bot.places import PlaceIndex
from bot.scheduler import build_scheduler
from bot.services import BotServices
from bot.strings import Strings
from bot.telegram.adapter import build_application, send_replies, webhook_router
from bot.web.routes import router as webchat_router
from content.library import ContentLibrary
from content.loader import DEFAULT_ROOT, ContentSet, load_content
from content.seed import sync_reference_data
from core import migrate
from core.availability import seed_demo_hours
from core.crypto import FieldCipher
from core.db import build_engine, transaction
from core.errors import InvalidInput
from core.settings import Role, Settings
from core.webhook import deliver_due_webhooks
from nlu.service import Classifier, build_classifier
from nlu.translation import build_translator

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent.parent / "bot" / "web" / "static"


@dataclass
class Lotse:
    settings: Settings
    db: Engine
    content: ContentSet
    services: BotServices
    dialogue: DialogueEngine


def prepare_database(settings: Settings, db: Engine, content: ContentSet) -> None:
    if settings.auto_migrate:
        migrate.upgrade(db)
    if settings.sync_content_on_start:
        with transaction(db) as session:
            if db.dialect.name == "postgresql":  # several processes may start at once
                session.execute(text("SELECT pg_advisory_xact_lock(74701)"))
            sync_reference_data(session, content)
            if settings.seeds_demo_availability:
                seed_demo_hours(session)


def build(
    settings: Settings, classifier: Classifier | None = None, content: ContentSet | None = None
) -> Lotse:
    """Everything from settings; tests may hand in an already loaded classifier and content."""
    db = build_engine(settings)
    content = content or load_content(settings.content_dir or DEFAULT_ROOT)
    if content.errors:
        raise InvalidInput(
            "content has errors; run `lotse content check`: " + "; ".join(map(str, content.errors[:5]))
        )
    prepare_database(settings, db, content)
    places = PlaceIndex(content)
    services = BotServices(
        settings=settings,
        db=db,
        library=ContentLibrary(content),
        classifier=classifier or build_classifier(settings, places.surface_forms()),
        cipher=FieldCipher(settings.encryption_keys.get_secret_value(), settings.secret_key.get_secret_value()),
        strings=Strings(),
        places=places,
    )
    return Lotse(settings, db, content, services, DialogueEngine(services))


def create_app(settings: Settings, lotse: Lotse | None = None) -> FastAPI:
    lotse = lotse or build(settings)
    telegram: Application | None = None  # type: ignore[type-arg]
    # Only a process that serves chats polls; the scheduler needs the bot to send reminders.
    polling = (
        bool(settings.telegram_token) and not settings.telegram_webhook_secret and settings.role is not Role.SCHEDULER
    )
    if settings.telegram_token:
        telegram = build_application(settings, lotse.dialogue, polling=polling)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Work handed to threads (the dashboard, scheduler jobs; turns run on the loop): no
        # more at once than database connections, since more threads would only queue for one.
        to_thread.current_default_thread_limiter().total_tokens = settings.db_pool_size
        scheduler = None
        if telegram is not None:
            await telegram.initialize()
            await telegram.start()
            if polling and telegram.updater is not None:
                await telegram.updater.start_polling(drop_pending_updates=False)
                log.info("telegram polling started")
        http = httpx.AsyncClient(timeout=httpx.Timeout(10.0), follow_redirects=False)
        if settings.role in (Role.ALL, Role.SCHEDULER):
            send = (lambda address, replies: send_replies(telegram.bot, address, replies)) if telegram else None
            services = lotse.services

            async def webhooks() -> int:  # a coroutine function: APScheduler awaits it
                return await deliver_due_webhooks(services.db, http, services.cipher)

            scheduler = build_scheduler(services, send, webhooks)
            scheduler.start()
        app.state.scheduler = scheduler
        # Content, strings and the NLU model are some 200,000 objects that live as long as the
        # process: out of the collector's sight, a full collection no longer stops every
        # thread for ~90 ms (it was the load benchmark's p99).
        gc.collect()
        gc.freeze()
        # A turn allocates some thousands of short-lived objects: collecting the young
        # generation every 700 allocations cost ~5 % of a turn's CPU (`lotse bench turn`,
        # alternating pairs). Reference counting frees nearly all of them anyway.
        gc.set_threshold(50_000, 20, 20)
        yield
        await http.aclose()
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if telegram is not None:
            if telegram.updater is not None and telegram.updater.running:
                await telegram.updater.stop()
            await telegram.stop()
            await telegram.shutdown()
        lotse.db.dispose()

    app = FastAPI(
        title="Lotse",
        summary="Orientation and intake for newcomers in German municipalities",
        version="0.1.0",
        lifespan=lifespan,
        # FastAPI's OpenTelemetry would record exception messages (which may quote what a
        # person wrote) and costs work per request; Lotse's own metrics are at /metrics.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.settings = settings
    app.state.engine = lotse.db
    app.state.library = lotse.services.library
    app.state.classifier = lotse.services.classifier
    app.state.strings = lotse.services.strings
    app.state.dialogue = lotse.dialogue
    app.state.telegram = telegram
    app.state.translator = build_translator()
    app.include_router(health_router)
    app.include_router(webchat_router)
    app.include_router(webhook_router(settings))
    app.include_router(links_router)
    include_api(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
