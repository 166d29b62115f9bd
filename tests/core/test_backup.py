"""Backup and restore: a restore yields identical data, also when the backup ran during writes."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from core.audit import audit
from core.backup import BackupInfo, backup, find_tool, manifest_path, restore
from core.booking import Booking, BookingStatus
from core.credential import issue_credential
from core.crypto import FieldCipher
from core.db import create_database_engine, transaction
from core.errors import Conflict, InvalidInput
from core.handoff import HandoffRequest
from core.intake import change_status
from core.links import create_code, register_referrer
from core.migrate import is_at_head, upgrade
from core.settings import Role, Settings
from core.staff import create_user
from core.webhook import announce_handoff, register_endpoint
from tests.api.conftest import PASSWORD, make_intake, team
from tests.database import POSTGRES_URL, drop_database, fresh_database

pytestmark = pytest.mark.db

Rows = dict[str, list[dict[str, Any]]]


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def cipher(tmp_path: Path) -> FieldCipher:
    settings = Settings(data_dir=tmp_path)
    return FieldCipher(settings.encryption_keys.get_secret_value(), settings.secret_key.get_secret_value())


@pytest.fixture
def filled(engine: Engine, synced_session: Session, cipher: FieldCipher) -> Engine:
    """Two newcomers with consent and bookings, a handoff, a link, a webhook, staff, audit rows."""
    session = synced_session
    first = make_intake(session, cipher)
    second = make_intake(session, cipher, language="uk", index=1, name="Olena",
                         own_words="Потрібна допомога з інтеграційним курсом", interpreter=False, topic=None)
    change_status(session, second.booking, BookingStatus.CONFIRMED, "staff:cm")
    handoff = HandoffRequest(person_id=first.person_id, team_id=first.booking.team_id, language="ar",  # type: ignore[arg-type]
                             topic="school", question_enc=cipher.encrypt("هل يمكن لابنتي الذهاب إلى المدرسة؟"))
    session.add(handoff)
    session.flush()
    announce_handoff(session, handoff)
    audit(session, "person:p1", "handoff.created", "handoff", handoff.id, team="dortmund-kim")
    referrer, _ = register_referrer(session, "Willkommensinitiative Moers")
    create_code(session, "moers", "ar", "book", referrer=referrer, expires_days=30)
    team_id = team(session).id
    register_endpoint(session, cipher, team_id, "https://cm.example.org/lotse-hook")  # type: ignore[arg-type]
    create_user(session, "cm@example.org", PASSWORD, team_id=team_id)
    issue_credential(session, "backup-test", ["intakes:read"], team_id=team_id)
    session.commit()
    return engine


@pytest.fixture
def target(tmp_path: Path) -> Iterator[str]:
    """A second, empty database to restore into."""
    url, name = fresh_database(tmp_path, "restored.db", "r")
    yield url
    drop_database(name)


def all_rows(url: str) -> Rows:
    """Every row of every table, all columns, ordered by primary key."""
    engine = create_database_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(bind=engine)
        with engine.connect() as connection:
            return {
                name: [dict(r._mapping) for r in connection.execute(
                    select(table).order_by(*(table.primary_key.columns or table.columns)))]
                for name, table in sorted(metadata.tables.items())
            }
    finally:
        engine.dispose()


class TickWriter(threading.Thread):
    """Keeps committing numbered audit rows, one transaction each, in order."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(daemon=True)
        self.engine = engine
        self.written = 0
        self.stop = threading.Event()
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                with transaction(self.engine) as session:
                    audit(session, "writer", "tick", "tick", self.written + 1)
                self.written += 1
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 60  # a guard against a hang, not a timing assertion
        while self.written < count and self.error is None:
            assert time.monotonic() < deadline, "the writer stalled"
            time.sleep(0.002)


def test_backup_while_writing_restores_a_consistent_identical_copy(
    filled: Engine, target: str, tmp_path: Path
) -> None:
    before = all_rows(url_of(filled))
    writer = TickWriter(filled)
    writer.start()
    writer.wait_for(20)
    committed_before = writer.written
    info = backup(url_of(filled), tmp_path / "backups" / "lotse.backup")
    committed_after = writer.written
    writer.wait_for(committed_after + 5)  # it kept writing after the snapshot
    writer.stop.set()
    writer.join()
    assert writer.error is None

    result = restore(info.path, target)
    restored = all_rows(target)
    ticks = [r for r in restored["audit_event"] if r["actor"] == "writer"]
    numbers = [int(r["subject_id"]) for r in ticks]
    k = len(numbers)
    assert numbers == list(range(1, k + 1)), "the restored ticks are a prefix, in order"
    assert committed_before <= k <= committed_after < writer.written
    restored["audit_event"] = [r for r in restored["audit_event"] if r["actor"] != "writer"]
    assert restored == before
    assert result.mismatches == {} and result.at_head
    assert info.row_counts["audit_event"] == len(before["audit_event"]) + k
    assert info.row_counts["booking"] == 2 and info.row_counts["handoff_request"] == 1


def test_backup_writes_file_and_manifest_without_personal_data(filled: Engine, tmp_path: Path) -> None:
    info = backup(url_of(filled), tmp_path / "lotse.backup")
    assert isinstance(info, BackupInfo) and info.path.stat().st_size == info.bytes
    manifest = manifest_path(info.path).read_text(encoding="utf-8")
    assert info.sha256 in manifest and f'"alembic_revision": "{info.alembic_revision}"' in manifest
    for personal in ("Hamed", "Olena", "+49 170", "cm@example.org"):
        assert personal not in manifest
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []
    with open(info.path, "rb") as handle:
        content = handle.read()
    assert b"Hamed" not in content, "personal fields stay encrypted inside the backup"


def test_restored_database_serves_with_head_schema_and_decrypts(
    filled: Engine, target: str, tmp_path: Path, nlu_model_path: Path, shared_classifier: Any, shipped_content: Any
) -> None:
    from lotse.app import build

    info = backup(url_of(filled), tmp_path / "lotse.backup")
    restore(info.path, target)
    settings = Settings(data_dir=tmp_path / "svc", database_url=target, nlu_model_path=nlu_model_path, role=Role.WEB)
    built = build(settings, classifier=shared_classifier, content=shipped_content)
    try:
        assert is_at_head(built.db)
        with Session(built.db) as session:
            booking = session.scalars(select(Booking).where(Booking.language == "uk")).one()
            assert built.services.cipher.decrypt(booking.display_name_enc) == "Olena"
            assert built.services.cipher.decrypt(booking.own_words_enc) == "Потрібна допомога з інтеграційним курсом"
            assert booking.status == BookingStatus.CONFIRMED
            other_keys = FieldCipher("A" * 43 + "=", "pepper")
            with pytest.raises(InvalidInput, match="cannot be decrypted"):
                other_keys.decrypt(booking.display_name_enc)
    finally:
        built.db.dispose()


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "tail cut, no manifest":
        path.write_bytes(data[:-700])
        manifest_path(path).unlink()
    elif how == "byte flipped":
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:])
    elif how == "not a backup":
        path.write_text("id,name\n1,Amal\n", encoding="utf-8")
        manifest_path(path).unlink()
    elif how == "empty":
        path.write_bytes(b"")
        manifest_path(path).unlink()


@pytest.mark.parametrize("how", ["truncated", "tail cut, no manifest", "byte flipped", "not a backup", "empty"])
def test_damaged_backup_is_refused_and_target_untouched(
    filled: Engine, target: str, tmp_path: Path, how: str
) -> None:
    info = backup(url_of(filled), tmp_path / "lotse.backup")
    restore(info.path, target)  # the target holds the data already; a failed restore must keep it
    with transaction(create_database_engine(target)) as session:
        audit(session, "test", "marker", "none", 1)
    kept = all_rows(target)
    _damage(info.path, how)
    with pytest.raises(InvalidInput) as raised:
        restore(info.path, target, replace=True)
    message = str(raised.value)
    assert any(word in message for word in ("truncated", "corrupt", "neither", "empty", "manifest")), message
    assert all_rows(target) == kept


def test_backup_from_a_newer_lotse_is_refused(filled: Engine, target: str, tmp_path: Path) -> None:
    with transaction(filled) as session:
        session.execute(text("UPDATE alembic_version SET version_num = 'ffff_future'"))
    info = backup(url_of(filled), tmp_path / "lotse.backup")
    with pytest.raises(InvalidInput, match="newer Lotse.*upgrade Lotse first"):
        restore(info.path, target)
    assert all_rows(target) == {}


def test_non_empty_target_is_refused_unless_replaced(filled: Engine, target: str, tmp_path: Path) -> None:
    upgrade(create_database_engine(target))
    info = backup(url_of(filled), tmp_path / "lotse.backup")
    with pytest.raises(Conflict, match="not empty"):
        restore(info.path, target)
    assert all_rows(target)["booking"] == []
    restore(info.path, target, replace=True)
    assert all_rows(target) == all_rows(url_of(filled))


def test_failed_backup_leaves_no_file(empty_engine: Engine, tmp_path: Path) -> None:
    with empty_engine.connect():
        pass  # the database exists but has no schema
    destination = tmp_path / "out" / "lotse.backup"
    with pytest.raises(InvalidInput, match="no schema revision"):
        backup(url_of(empty_engine), destination)
    assert sorted(p.name for p in destination.parent.iterdir()) == []


def test_cli_round_trip(filled: Engine, target: str, tmp_path: Path) -> None:
    from lotse.cli import app

    runner = CliRunner()
    file = tmp_path / "nightly.backup"
    made = runner.invoke(app, ["db", "backup", str(file)], env={"LOTSE_DATABASE_URL": url_of(filled)})
    assert made.exit_code == 0, made.output
    assert "revision   0002" in made.output and "booking" in made.output
    first = runner.invoke(app, ["db", "restore", str(file)], env={"LOTSE_DATABASE_URL": target})
    assert first.exit_code == 0, first.output
    assert "row counts match the manifest" in first.output
    again = runner.invoke(app, ["db", "restore", str(file)], env={"LOTSE_DATABASE_URL": target})
    assert again.exit_code == 1 and "--yes" in again.output
    replaced = runner.invoke(app, ["db", "restore", str(file), "--yes"], env={"LOTSE_DATABASE_URL": target})
    assert replaced.exit_code == 0, replaced.output
    assert all_rows(target) == all_rows(url_of(filled))


def test_missing_tool_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="pg_dump is not installed in"):
        find_tool("pg_dump", tmp_path)


postgres_only = pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (LOTSE_TEST_DATABASE_URL)")


@postgres_only
def test_pg_dump_older_than_the_server_is_refused(engine: Engine, tmp_path: Path) -> None:
    old = tmp_path / "bin" / "pg_dump"
    old.parent.mkdir()
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n", encoding="utf-8")
    old.chmod(0o755)
    with pytest.raises(InvalidInput, match=r"pg_dump 9\.6\.24 .* is older than the PostgreSQL \d+ server"):
        backup(url_of(engine), tmp_path / "lotse.backup", pg_bin=old.parent)
    assert not (tmp_path / "lotse.backup").exists()


@postgres_only
def test_pg_restore_failing_midway_rolls_back(filled: Engine, target: str, tmp_path: Path) -> None:
    """A damaged statement deep in the archive (no manifest to catch it): one transaction, no trace."""
    info = backup(url_of(filled), tmp_path / "lotse.backup")
    restore(info.path, target)
    with transaction(create_database_engine(target)) as session:
        audit(session, "test", "marker", "none", 1)
    kept = all_rows(target)
    data = info.path.read_bytes()
    statement = b"ADD CONSTRAINT municipality_pkey PRIMARY KEY"
    assert data.count(statement) == 1
    info.path.write_bytes(data.replace(statement, statement[:-1] + b"Z"))
    manifest_path(info.path).unlink()
    with pytest.raises(InvalidInput, match="pg_restore failed"):
        restore(info.path, target, replace=True)
    assert all_rows(target) == kept


@postgres_only
def test_wrong_credentials_are_reported_without_the_password(engine: Engine, tmp_path: Path) -> None:
    wrong = engine.url.set(username="nobody_here", password="Geheim-4711")
    with pytest.raises(InvalidInput, match="wrong database credentials") as raised:
        backup(wrong.render_as_string(hide_password=False), tmp_path / "lotse.backup")
    assert "Geheim-4711" not in str(raised.value)


def test_environment_is_not_changed(engine: Engine, tmp_path: Path) -> None:
    """The password goes to pg_dump through its own environment only, never ours."""
    before = dict(os.environ)
    backup(url_of(engine), tmp_path / "lotse.backup")
    assert dict(os.environ) == before


def test_restore_reports_counts_that_differ_from_the_manifest(filled: Engine, target: str, tmp_path: Path) -> None:
    import json

    from lotse.cli import app

    info = backup(url_of(filled), tmp_path / "lotse.backup")
    manifest = json.loads(manifest_path(info.path).read_text(encoding="utf-8"))
    manifest["row_counts"]["booking"] = 99
    manifest_path(info.path).write_text(json.dumps(manifest), encoding="utf-8")
    result = CliRunner().invoke(app, ["db", "restore", str(info.path)], env={"LOTSE_DATABASE_URL": target})
    assert result.exit_code == 1
    assert "row counts differ from the manifest: booking" in result.output
