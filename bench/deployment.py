"""One service under test: the fake Telegram, the NLU artefact, a prepared database, N app
processes and the scheduler, ready; stopped again on leaving."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.processes import Environment, Service, free_port, spawn, wait_ready
from bench.simulator import FakeBotApi, serve_fake
from core.db import create_database_engine
from core.settings import Settings


@dataclass
class Deployment:
    fake: FakeBotApi
    environment: Environment
    settings: Settings
    apps: list[Service]  # a restarted process replaces its entry
    scheduler: Service | None
    work: Path


def prepare(settings: Settings) -> None:
    """Schema, reference data and demo opening hours once, before any process starts."""
    from content.loader import load_content
    from lotse.app import prepare_database

    engine = create_database_engine(settings.resolved_database_url)
    try:
        prepare_database(settings, engine, load_content())
    finally:
        engine.dispose()


def train_model(path: Path) -> None:
    from nlu.service import load_or_train  # the same artefact the service trains itself

    load_or_train(Settings(nlu_model_path=path, data_dir=path.parent))


@asynccontextmanager
async def deployment(
    database_url: str,
    work: Path,
    processes: int,
    scheduler: bool = True,
    model_path: Path | None = None,
    extra: dict[str, str] | None = None,
) -> AsyncIterator[Deployment]:
    fake = FakeBotApi()
    fake_port = free_port()
    runner = await serve_fake(fake, fake_port)
    try:
        model = model_path or work / "nlu-model.joblib"
        await asyncio.to_thread(train_model, model)
        environment = Environment(database_url, work / "var", model, fake_port, extra=extra or {})
        settings = Settings(database_url=database_url, data_dir=work / "var", nlu_model_path=model)
        await asyncio.to_thread(prepare, settings)
        apps = [spawn(environment, "web", free_port(), work / "logs") for _ in range(processes)]
        due_work = spawn(environment, "scheduler", free_port(), work / "logs") if scheduler else None
        try:
            for service in [*apps, *([due_work] if due_work else [])]:
                await asyncio.to_thread(wait_ready, service)
            yield Deployment(fake, environment, settings, apps, due_work, work)
        finally:
            for service in [*apps, *([due_work] if due_work else [])]:
                service.stop()
    finally:
        await runner.cleanup()
