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
