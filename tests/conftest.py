"""Shared fixtures: a real database per test (SQLite file, or PostgreSQL via LOTSE_TEST_DATABASE_URL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.db import create_database_engine
from core.migrate import upgrade
from core.settings import Settings

POSTGRES_URL = os.environ.get("LOTSE_TEST_DATABASE_URL", "")


def _fresh_database_url(tmp_path: Path) -> tuple[str, str | None]:
    """A new empty database: a SQLite file, or a new PostgreSQL database on the test server."""
    if not POSTGRES_URL:
        return f"sqlite:///{tmp_path / 'test.db'}", None
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_database_engine(POSTGRES_URL)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    base, _, _ = POSTGRES_URL.rpartition("/")
    return f"{base}/{name}", name


def _drop_database(name: str) -> None:
    admin = create_database_engine(POSTGRES_URL)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def empty_engine(tmp_path: Path) -> Iterator[Engine]:
    """An engine on a new, empty database (no tables)."""
    url, name = _fresh_database_url(tmp_path)
    engine = create_database_engine(url)
    yield engine
    engine.dispose()
    if name:
        _drop_database(name)


@pytest.fixture
def engine(empty_engine: Engine) -> Engine:
    """An engine on a new database migrated to head."""
    upgrade(empty_engine)
    return empty_engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session




@pytest.fixture(scope="session")
def shipped_content():  # type: ignore[no-untyped-def]
    from content.loader import load_content

    return load_content()


@pytest.fixture
def synced_session(session: Session, shipped_content) -> Session:  # type: ignore[no-untyped-def]
    """A database holding the shipped municipalities, teams, routing rules and consent texts."""
    from content.seed import sync_reference_data

    sync_reference_data(session, shipped_content)
    session.commit()
    return session


@pytest.fixture(scope="session")
def nlu_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Train the built-in NLU once per test session; every service built in tests loads it."""
    from nlu.service import build_classifier

    directory = tmp_path_factory.mktemp("nlu")
    settings = Settings(data_dir=directory)
    build_classifier(settings)
    return settings.resolved_nlu_model_path


@pytest.fixture
def app_settings(tmp_path: Path, engine: Engine, nlu_model_path: Path) -> Settings:
    """Settings of a full service on this test's database, with the shared NLU model."""
    return Settings(
        data_dir=tmp_path,
        database_url=engine.url.render_as_string(hide_password=False),
        nlu_model_path=nlu_model_path,
    )


@pytest.fixture(scope="session")
def shared_classifier(nlu_model_path: Path, shipped_content):  # type: ignore[no-untyped-def]
    """The trained classifier, loaded once (it is read-only and thread-safe)."""
    from bot.places import PlaceIndex
    from nlu.service import build_classifier

    places = PlaceIndex(shipped_content).surface_forms()
    return build_classifier(Settings(nlu_model_path=nlu_model_path), places)


@pytest.fixture
def lotse(app_settings: Settings, shared_classifier, shipped_content):  # type: ignore[no-untyped-def]
    """The assembled service (composition root) on a fresh database with the shipped content."""
    from lotse.app import build

    built = build(app_settings, classifier=shared_classifier, content=shipped_content)
    yield built
    built.db.dispose()
