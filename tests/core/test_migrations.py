"""Migrations: upgrade -> downgrade -> upgrade, and the models match the migrations exactly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from core.migrate import downgrade, is_at_head, upgrade
from core.tables import metadata

pytestmark = pytest.mark.db


def test_upgrade_downgrade_upgrade(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    assert is_at_head(empty_engine)
    assert set(metadata.tables) <= set(inspect(empty_engine).get_table_names())
    downgrade(empty_engine, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    upgrade(empty_engine)
    assert is_at_head(empty_engine)


def test_autogenerate_yields_no_diff(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_ciphertext_is_never_compressed_and_replay_copies_stay_in_their_row(engine: Engine) -> None:
    """Every encrypted column (LargeBinary) is EXTERNAL on PostgreSQL: ciphertext does not
    compress, and trying cost the database CPU on every turn."""
    if engine.dialect.name != "postgresql":
        pytest.skip("TOAST storage is PostgreSQL's")
    from sqlalchemy import LargeBinary, text

    encrypted = {(t.name, c.name) for t in metadata.tables.values() for c in t.c if isinstance(c.type, LargeBinary)}
    assert ("processed_update", "replies_enc") in encrypted
    with engine.connect() as connection:
        storage = dict(connection.execute(text(
            "SELECT c.relname || '.' || a.attname, a.attstorage FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
            " WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0"
        )).all())
        options = connection.execute(text("SELECT reloptions FROM pg_class WHERE relname = 'processed_update'")).scalar()
    assert {f"{t}.{c}": storage[f"{t}.{c}"] for t, c in encrypted} == {f"{t}.{c}": "e" for t, c in encrypted}
    assert "toast_tuple_target=8160" in options
