"""Engine and sessions; the composition root builds the engine once from Settings."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from core.settings import Settings

LOCK_TIMEOUT_MS = 10_000


def build_engine(settings: Settings) -> Engine:
    return create_database_engine(settings.resolved_database_url, settings.db_pool_size)


def create_database_engine(url: str, pool_size: int = 8) -> Engine:
    """A pool as large as the worker threads that use it: connections beyond the pool would
    be opened and closed per request (for PostgreSQL a new server process each time)."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": LOCK_TIMEOUT_MS / 1000}, hide_parameters=True,
            pool_size=pool_size, max_overflow=5,
        )
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # hide_parameters: error messages (and so logs) never show values, which may be personal.
    # No pre-ping (a round trip per checkout): a connection the server dropped fails once,
    # SQLAlchemy then discards the whole pool, and the dialogue engine retries its turn.
    # lock_timeout: no statement waits longer for a row lock than this; the turns run on the
    # event loop (see `bot.engine`), and a stuck lock must fail a turn, not stall a process.
    return create_engine(
        url, pool_size=pool_size, max_overflow=5, hide_parameters=True,
        connect_args={"options": f"-c lock_timeout={LOCK_TIMEOUT_MS}"},
    )


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE so a transaction takes the write lock at once."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={LOCK_TIMEOUT_MS}")  # then "database is locked"
        # WAL + NORMAL: a commit survives the process being killed; only a power cut may
        # lose the last commits. FULL would fsync every commit (about 10 ms each).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextmanager
def transaction(engine: Engine, session_class: type[Session] = Session) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error."""
    with session_class(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def create_sibling_database(server_url: str, prefix: str) -> tuple[str, str]:
    """A new empty PostgreSQL database on the server of `server_url` (for tests and
    benchmarks): its URL and its name."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    _administer(server_url, f'CREATE DATABASE "{name}"')
    base, _, _ = server_url.rpartition("/")
    return f"{base}/{name}", name


def drop_sibling_database(server_url: str, name: str) -> None:
    _administer(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _administer(server_url: str, statement: str) -> None:
    admin = create_database_engine(server_url, pool_size=1)
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(statement))
    finally:
        admin.dispose()
