"""Backups that restore to identical data: SQLite's online backup API, pg_dump snapshots.

A backup is one file plus a manifest `<file>.json` (size, sha256, dialect, schema revision,
row counts per table; no personal data). Both are written beside the target under a
temporary name and renamed, so a failed run never leaves a half file under the final name.
Error messages name the problem and never contain a password or data from the rows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy.engine import make_url

from core import backup_postgres
from core.backup_postgres import find_tool
from core.clock import utcnow
from core.db import create_database_engine
from core.errors import Conflict, InvalidInput
from core.migrate import MIGRATIONS

# find_tool lives in core.backup_postgres and is re-exported: callers import it from here.
__all__ = [
    "PGDUMP_MAGIC",
    "SQLITE_MAGIC",
    "BackupInfo",
    "RestoreInfo",
    "backup",
    "find_tool",
    "manifest_path",
    "read_manifest",
    "restore",
    "row_counts",
]

log = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    bytes: int
    sha256: str
    dialect: str
    alembic_revision: str
    row_counts: dict[str, int]
    created_at: datetime

    def manifest(self) -> dict[str, object]:
        return {
            "path": self.path.name,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "dialect": self.dialect,
            "alembic_revision": self.alembic_revision,
            "row_counts": self.row_counts,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class RestoreInfo:
    source: Path
    dialect: str
    alembic_revision: str
    at_head: bool
    row_counts: dict[str, int]
    expected: dict[str, int] | None = field(default=None)

    @property
    def mismatches(self) -> dict[str, tuple[int | None, int | None]]:
        """Tables whose restored row count differs from the manifest: (expected, restored)."""
        if self.expected is None:
            return {}
        names = sorted(set(self.expected) | set(self.row_counts))
        pairs = {n: (self.expected.get(n), self.row_counts.get(n)) for n in names}
        return {n: pair for n, pair in pairs.items() if pair[0] != pair[1]}


def manifest_path(backup_file: Path) -> Path:
    return backup_file.with_name(backup_file.name + ".json")


def backup(url: str, target: Path, *, pg_bin: Path | None = None) -> BackupInfo:
    """A consistent backup of the database at URL while the service keeps running."""
    target = Path(target)
    dialect = _dialect(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    created_at = utcnow()
    try:
        if dialect == "sqlite":
            revision, counts = _backup_sqlite(_sqlite_path(url), partial)
        else:
            revision, counts = backup_postgres.dump(url, partial, pg_bin)
        if revision is None:
            raise InvalidInput("the database has no schema revision (alembic_version): run `lotse db upgrade` first")
        _fsync(partial)
        info = BackupInfo(target, partial.stat().st_size, _sha256(partial), dialect, revision, counts, created_at)
        manifest_path(target).unlink(missing_ok=True)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    _write_atomically(manifest_path(target), json.dumps(info.manifest(), indent=2, sort_keys=True) + "\n")
    log.info("backup written: dialect=%s bytes=%d revision=%s tables=%d", dialect, info.bytes, revision, len(counts))
    return info


def restore(source: Path, url: str, *, replace: bool = False, pg_bin: Path | None = None) -> RestoreInfo:
    """Restore a backup into the database at URL; stop the service first (SQLite in particular).

    Everything is checked before the target is touched; a non-empty target is refused unless
    replace is set. PostgreSQL restores in one transaction, SQLite in one backup step.
    """
    source = Path(source)
    if not source.is_file():
        raise InvalidInput(f"backup file {source} not found")
    manifest = read_manifest(source)
    kind = _file_kind(source)
    dialect = _dialect(url)
    if kind != dialect:
        raise InvalidInput(f"{source.name} is a {kind} backup; it cannot be restored into a {dialect} database")
    if manifest is not None and manifest.get("dialect") not in (None, kind):
        raise InvalidInput(f"the manifest of {source.name} does not describe this file (dialect differs)")
    if kind == "sqlite":
        revision, at_head = _check_revision(_check_sqlite_file(source))
        _restore_sqlite(source, _sqlite_path(url), replace)
    else:
        tool = find_tool("pg_restore", pg_bin)
        revision, at_head = _check_revision(backup_postgres.check_archive(source, tool))
        backup_postgres.restore_archive(source, url, tool, replace)
    expected = manifest.get("row_counts") if manifest is not None else None
    info = RestoreInfo(source, dialect, revision, at_head, row_counts(url),
                       dict(expected) if isinstance(expected, dict) else None)
    log.info("restore done: dialect=%s revision=%s tables=%d mismatches=%d",
             dialect, revision, len(info.row_counts), len(info.mismatches))
    return info


def read_manifest(source: Path) -> dict[str, object] | None:
    """The manifest beside a backup file, checked against the file; None when there is none."""
    path = manifest_path(source)
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"the manifest {path.name} is unreadable") from exc
    if not isinstance(manifest, dict):
        raise InvalidInput(f"the manifest {path.name} is unreadable")
    size = source.stat().st_size
    if manifest.get("bytes") != size:
        raise InvalidInput(
            f"{source.name} is truncated or altered: the manifest says {manifest.get('bytes')} bytes, "
            f"the file has {size}"
        )
    if manifest.get("sha256") != _sha256(source):
        raise InvalidInput(f"{source.name} is corrupt or altered: its sha256 does not match the manifest")
    return manifest


def row_counts(url: str) -> dict[str, int]:
    engine = create_database_engine(url)
    try:
        with backup_postgres.connect(engine) as connection:
            return backup_postgres.count_rows(connection)
    finally:
        engine.dispose()


# --- SQLite -------------------------------------------------------------------------------


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise InvalidInput("only a SQLite database file can be backed up or restored")
    return Path(database)


def _backup_sqlite(source: Path, partial: Path) -> tuple[str | None, dict[str, int]]:
    """One backup step copies every page inside one read transaction: a consistent snapshot."""
    if not source.is_file():
        raise InvalidInput(f"no SQLite database at {source}")
    try:
        with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(partial)) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
            return _sqlite_facts(dst)
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(f"the SQLite database cannot be read ({exc})") from exc


def _check_sqlite_file(path: Path) -> str | None:
    with path.open("rb") as handle:
        header = handle.read(100)
    page_size = int.from_bytes(header[16:18], "big") if len(header) == 100 else 0
    page_size = 65536 if page_size == 1 else page_size
    if not header.startswith(SQLITE_MAGIC) or page_size < 512:
        raise InvalidInput(f"{path.name} is not a SQLite database")
    size = path.stat().st_size
    pages = int.from_bytes(header[28:32], "big")
    header_count_valid = header[24:28] == header[92:96]
    if size % page_size or (pages and header_count_valid and size != pages * page_size):
        raise InvalidInput(f"{path.name} is truncated ({size} bytes, the header promises {pages * page_size})")
    try:
        with closing(sqlite3.connect(_read_only_uri(path), uri=True)) as connection:
            if connection.execute("PRAGMA integrity_check").fetchall() != [("ok",)]:
                raise InvalidInput(f"{path.name} is corrupt (SQLite integrity check failed)")
            revision, _ = _sqlite_facts(connection)
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(f"{path.name} is corrupt or not a SQLite database ({exc})") from exc
    return revision


def _restore_sqlite(source: Path, target: Path, replace: bool) -> None:
    """The backup API in reverse: one write transaction replaces every page of the target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with closing(sqlite3.connect(target, timeout=30)) as dst:
            tables = _sqlite_tables(dst)
            if tables and not replace:
                raise Conflict(f"the target database is not empty ({len(tables)} tables); "
                               "stop the service and confirm replacing it")
            with closing(sqlite3.connect(_read_only_uri(source), uri=True)) as src:
                src.backup(dst)
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(f"the restore into {target.name} failed ({exc}); the target is unchanged") from exc


def _read_only_uri(path: Path) -> str:
    return path.resolve().as_uri() + "?mode=ro"


def _sqlite_tables(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    return [name for (name,) in rows]


def _sqlite_facts(connection: sqlite3.Connection) -> tuple[str | None, dict[str, int]]:
    tables = _sqlite_tables(connection)
    counts = {t: connection.execute(f'SELECT count(*) FROM "{t.replace(chr(34), chr(34) * 2)}"').fetchone()[0]
              for t in tables}
    revision = None
    if "alembic_version" in tables:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = row[0] if row else None
    return revision, counts


# --- shared -------------------------------------------------------------------------------


def _check_revision(revision: str | None) -> tuple[str, bool]:
    """The revision, and whether it is this code's head (older ones are upgraded after restore)."""
    if revision is None:
        raise InvalidInput("the backup holds no schema revision (alembic_version): it is not a Lotse backup")
    scripts = ScriptDirectory(str(MIGRATIONS))
    try:
        known = scripts.get_revision(revision)
    except (RevisionError, CommandError):
        known = None
    if known is None:
        raise InvalidInput(
            f"the backup comes from a newer Lotse (schema revision {revision!r} is unknown to this version): "
            "upgrade Lotse first, then restore"
        )
    return revision, revision == scripts.get_current_head()


def _file_kind(path: Path) -> str:
    with path.open("rb") as handle:
        start = handle.read(16)
    if start.startswith(SQLITE_MAGIC):
        return "sqlite"
    if start.startswith(PGDUMP_MAGIC):
        return "postgresql"
    if not start:
        raise InvalidInput(f"{path.name} is empty")
    raise InvalidInput(f"{path.name} is neither a SQLite database nor a pg_dump archive (custom format)")


def _dialect(url: str) -> str:
    try:
        backend = make_url(url).get_backend_name()
    except Exception as exc:  # sqlalchemy raises ArgumentError for garbage
        raise InvalidInput("the database URL is malformed") from exc
    if backend not in ("sqlite", "postgresql"):
        raise InvalidInput(f"backups support SQLite and PostgreSQL, not {backend}")
    return backend


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _write_atomically(path: Path, content: str) -> None:
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        partial.write_text(content, encoding="utf-8")
        _fsync(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
