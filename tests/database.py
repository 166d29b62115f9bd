"""Fresh, empty test databases: SQLite files, or PostgreSQL when LOTSE_TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
from pathlib import Path

from core.db import create_sibling_database, drop_sibling_database

POSTGRES_URL = os.environ.get("LOTSE_TEST_DATABASE_URL", "")


def fresh_database(directory: Path, filename: str = "test.db", prefix: str = "t") -> tuple[str, str | None]:
    """The URL of a new empty database, and its name on the PostgreSQL server (None for SQLite)."""
    if not POSTGRES_URL:
        return f"sqlite:///{directory / filename}", None
    return create_sibling_database(POSTGRES_URL, prefix)


def drop_database(name: str | None) -> None:
    if name:
        drop_sibling_database(POSTGRES_URL, name)
