"""Shared fixtures: a real database per test (SQLite file, or PostgreSQL via LOTSE_TEST_DATABASE_URL)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.db import create_database_engine
from core.migrate import upgrade
from core.settings import Settings
from tests.database import drop_database, fresh_database

# argostranslate (optional extra) reads these once, when first imported, by whichever test
# comes first: a private home for the whole session keeps it off ~/.local and offline.
_ARGOS_HOME = Path(tempfile.mkdtemp(prefix="lotse-test-argos-"))
for _key, _sub in (("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache"),
                   ("ARGOS_PACKAGES_DIR", "packages")):
    os.environ[_key] = str(_ARGOS_HOME / _sub)
os.environ["ARGOS_CHUNK_TYPE"] = "SPACY"  # the only sentence splitter that works offline


@pytest.fixture
def empty_engine(tmp_path: Path) -> Iterator[Engine]:
    """An engine on a new, empty database (no tables)."""
    url, name = fresh_database(tmp_path)
    engine = create_database_engine(url)
    yield engine
    engine.dispose()
    drop_database(name)


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
