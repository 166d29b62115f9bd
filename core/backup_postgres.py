"""PostgreSQL backups for core.backup: pg_dump snapshots, archive checks, pg_restore.

pg_dump and pg_restore run as subprocesses; the password goes in their environment, never on
the command line. Failures become a short reason from the tool's first error line, without
DETAIL lines or the password. The connection helpers shared with core.backup live here too,
so core.backup imports from this module and never the reverse.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from glob import glob
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError

from core.db import create_database_engine
from core.errors import Conflict, InvalidInput

POSTGRES_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def find_tool(name: str, directory: Path | None = None) -> Path:
    """pg_dump / pg_restore: the newest /usr/lib/postgresql/*/bin, else PATH (or only DIRECTORY)."""
    if directory is not None:
        candidates = [Path(directory) / name]
    else:
        versions = sorted(glob(POSTGRES_BIN_GLOB), key=_version_key, reverse=True)
        candidates = [Path(d) / name for d in versions]
        on_path = shutil.which(name)
        if on_path:
            candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    where = f" in {directory}" if directory is not None else ""
    raise InvalidInput(f"{name} is not installed{where} (Debian: apt-get install postgresql-client)")


# --- PostgreSQL ---------------------------------------------------------------------------


def dump(url: str, partial: Path, pg_bin: Path | None) -> tuple[str | None, dict[str, int]]:
    """pg_dump joins a snapshot we export, so the counts in the manifest describe the dump."""
    engine = create_database_engine(url)
    try:
        with connect(engine) as connection:
            server = _server_major(connection)
        tool = find_tool("pg_dump", pg_bin)
        _require_version(tool, server)
        with connect(engine) as connection:
            connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                snapshot = str(connection.execute(text("SELECT pg_export_snapshot()")).scalar_one())
                revision, counts = _revision(connection), count_rows(connection)
                _run([str(tool), "--format=custom", f"--snapshot={snapshot}", f"--file={partial}",
                      f"--dbname={_libpq_url(url)}"], url, "pg_dump")
        return revision, counts
    finally:
        engine.dispose()


def check_archive(path: Path, tool: Path) -> str | None:
    """The archive's table of contents and its schema revision, read without a server."""
    _run([str(tool), "--list", str(path)], None, "pg_restore")
    dumped = _run([str(tool), "--data-only", "--table=alembic_version", "--file=-", str(path)], None, "pg_restore")
    lines = iter(dumped.splitlines())
    for line in lines:
        if line.startswith("COPY ") and "alembic_version" in line:
            first = next(lines, "\\.")
            return None if first == "\\." else first.strip()
    return None


def restore_archive(source: Path, url: str, tool: Path, replace: bool) -> None:
    engine = create_database_engine(url)
    try:
        with connect(engine) as connection:
            server = _server_major(connection)
            tables = inspect(connection).get_table_names()
    finally:
        engine.dispose()
    _require_version(tool, server)
    if tables and not replace:
        raise Conflict(f"the target database is not empty ({len(tables)} tables); "
                       "stop the service and confirm replacing it")
    _run([str(tool), "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
          "--exit-on-error", f"--dbname={_libpq_url(url)}", str(source)], url, "pg_restore")


def _libpq_url(url: str) -> str:
    """The URL for libpq tools, without the driver and without the password (that goes in env)."""
    parsed = make_url(url).set(drivername="postgresql", password=None)
    return parsed.render_as_string(hide_password=False)


def _server_major(connection: Connection) -> int:
    return int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def _require_version(tool: Path, server: int) -> None:
    output = _run([str(tool), "--version"], None, tool.name)
    found = re.search(r"\(PostgreSQL\)\s+(\d+)[.\d]*", output)
    if found is None:
        raise InvalidInput(f"{tool} did not report its version")
    major = int(found.group(1))
    if major < server:
        raise InvalidInput(
            f"{tool.name} {found.group(0).split()[-1]} ({tool}) is older than the PostgreSQL {server} server; "
            f"install postgresql-client-{server} or newer"
        )


def _run(args: list[str], url: str | None, what: str) -> str:
    env = dict(os.environ, PGCONNECT_TIMEOUT="10")
    password = make_url(url).password if url else None
    if password:
        env["PGPASSWORD"] = str(password)
    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True, encoding="utf-8",
                              errors="replace", check=False)
    except OSError as exc:
        raise InvalidInput(f"{what} cannot be run ({exc.strerror})") from exc
    if done.returncode != 0:
        raise InvalidInput(_explain(what, done.stderr, str(password) if password else None))
    return done.stdout


EXPLANATIONS = (
    (("password authentication failed", "no password supplied", "role \"", "authentication failed"),
     "wrong database credentials"),
    (("could not connect", "connection refused", "could not translate host", "timeout expired"),
     "cannot reach the database server"),
    (("does not exist",), "the database does not exist"),
    (("unsupported version",), "the backup was written by a newer pg_dump; install a newer postgresql-client"),
    (("text format dump",), "the file is a plain SQL dump; restore it with psql"),
    (("did not find magic string", "not appear to be a valid archive"), "the file is not a pg_dump archive"),
    (("end of file", "could not read", "unexpected eof", "could not find block"),
     "the backup file is truncated or corrupt"),
)


def _explain(what: str, stderr: str, password: str | None) -> str:
    """A short, safe reason: the first error line, without DETAIL lines (they may hold row data)."""
    lines = [ln for ln in stderr.splitlines() if ln.strip() and not ln.lstrip().startswith(("DETAIL", "Command was"))]
    first = next((ln for ln in lines if "error" in ln.lower() or "fatal" in ln.lower()), lines[0] if lines else "")
    lowered = first.lower()
    reason = next((text_ for needles, text_ in EXPLANATIONS if any(n in lowered for n in needles)), None)
    detail = first.strip()[:300]
    if password:
        detail = detail.replace(password, "***")
    summary = f"{what} failed: {reason}" if reason else f"{what} failed"
    return f"{summary} ({detail})" if detail else summary


# --- shared with core.backup --------------------------------------------------------------


@contextmanager
def connect(engine: Engine) -> Iterator[Connection]:
    try:
        connection = engine.connect()
    except OperationalError as exc:
        raise InvalidInput(_explain("connecting to the database", str(exc.orig), engine.url.password)) from exc
    with connection:
        yield connection


def count_rows(connection: Connection) -> dict[str, int]:
    quote = connection.dialect.identifier_preparer.quote
    names = sorted(inspect(connection).get_table_names())
    return {n: int(connection.execute(text(f"SELECT count(*) FROM {quote(n)}")).scalar_one()) for n in names}


def _revision(connection: Connection) -> str | None:
    if "alembic_version" not in inspect(connection).get_table_names():
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _version_key(directory: str) -> tuple[int, ...]:
    name = Path(directory).parent.name
    return tuple(int(p) for p in name.split(".") if p.isdigit())
