"""Fresh, empty test databases: SQLite files, or PostgreSQL when LOTSE_TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from sqlalchemy import text

from core.db import create_database_engine

POSTGRES_URL = os.environ.get("LOTSE_TEST_DATABASE_URL", "")


def fresh_database(directory: Path, filename: str = "test.db", prefix: str = "t") -> tuple[str, str | None]:
    """The URL of a new empty database, and its name on the PostgreSQL server (None for SQLite)."""
    if not POSTGRES_URL:
        return f"sqlite:///{directory / filename}", None
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_database_engine(POSTGRES_URL)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    base, _, _ = POSTGRES_URL.rpartition("/")
    return f"{base}/{name}", name


def drop_database(name: str | None) -> None:
    if not name:
        return
    admin = create_database_engine(POSTGRES_URL)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
