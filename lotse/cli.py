"""`lotse`: the command line. Builds Settings once and hands it to every sub-command."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
import uvicorn

from api.admin_cli import app as admin_app
from api.links_cli import app as links_app
from bench.cli import app as bench_app
from content.cli import app as content_app
from core import migrate
from core.db import build_engine
from core.settings import Settings
from lotse.logs import configure_logging
from nlu.cli import app as nlu_app

app = typer.Typer(help="Lotse: orientation and intake for newcomers.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
telegram_app = typer.Typer(help="Telegram bot administration.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(content_app, name="content", help="Curated content: check, coverage, translate, import.")
app.add_typer(nlu_app, name="nlu", help="Intent recognition: train, predict, evaluate, export.")
app.add_typer(telegram_app, name="telegram")
app.add_typer(links_app, name="links", help="Volunteer links: create, revoke, stats.")
app.add_typer(admin_app, name="admin", help="Team credentials and dashboard users.")
app.add_typer(bench_app, name="bench", help="Benchmarks through the real channels: load and faults.")


@app.callback()
def main_callback(ctx: typer.Context) -> None:
    settings = Settings()
    configure_logging(settings.log_level, settings.json_logs)
    ctx.obj = settings


@app.command()
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Interface to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
) -> None:
    """Run web chat, API, dashboard, Telegram (webhook or polling) and the scheduler."""
    from lotse.app import create_app

    settings: Settings = ctx.obj
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    application = create_app(settings)
    base = f"http://{host}:{port}"
    typer.echo(
        "\n".join(
            [
                "Lotse is starting:",
                f"  web chat     {base}/chat/moers   (any municipality slug, e.g. /chat/koeln?lang=ar)",
                f"  API docs     {base}/docs",
                f"  dashboard    {base}/dashboard   (users: lotse admin create-user / seed-demo)",
                f"  volunteers   {base}/links",
                f"  health       {base}/health  and  {base}/ready",
                f"  database     {settings.resolved_database_url.split('@')[-1]}",
                "  telegram     " + ("polling" if settings.telegram_token and not settings.telegram_webhook_secret
                                     else "webhook at /telegram/webhook" if settings.telegram_token else "off (set LOTSE_TELEGRAM_TOKEN)"),
            ]
        )
    )
    # No access log: its lines carry client addresses (personal data) and query strings; the
    # metrics count requests, and a reverse proxy can log what its operator decides.
    uvicorn.run(application, host=host, port=port, log_config=None, access_log=False)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context, revision: str = typer.Argument("head")) -> None:
    """Migrate the database schema up to REVISION (default: head)."""
    migrate.upgrade(build_engine(ctx.obj), revision)
    typer.echo(f"database upgraded to {revision}")


@db_app.command("downgrade")
def db_downgrade(ctx: typer.Context, revision: str = typer.Argument(...)) -> None:
    """Migrate the database schema down to REVISION ('base' drops everything)."""
    migrate.downgrade(build_engine(ctx.obj), revision)
    typer.echo(f"database downgraded to {revision}")


@db_app.command("sync")
def db_sync(ctx: typer.Context) -> None:
    """Load municipalities, teams, routing rules and consent texts from the content files."""
    from content.loader import DEFAULT_ROOT, load_content
    from lotse.app import prepare_database

    settings: Settings = ctx.obj
    content = load_content(settings.content_dir or DEFAULT_ROOT)
    if content.errors:
        for problem in content.errors:
            typer.echo(str(problem), err=True)
        raise typer.Exit(1)
    prepare_database(settings, build_engine(settings), content)
    typer.echo("reference data synced")


@db_app.command("backup")
def db_backup(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Backup file to write (a manifest FILE.json is written beside it)"),
    pg_bin: Path = typer.Option(None, help="Directory holding pg_dump (default: newest /usr/lib/postgresql/*/bin, then PATH)"),
) -> None:
    """Back up the database while the service runs (SQLite online backup / pg_dump snapshot)."""
    import time

    from core.backup import backup
    from core.errors import LotseError

    settings: Settings = ctx.obj
    started = time.perf_counter()
    try:
        info = backup(settings.resolved_database_url, file, pg_bin=pg_bin)
    except LotseError as exc:
        typer.echo(f"backup failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"backup written: {info.path} ({info.bytes} bytes, {time.perf_counter() - started:.2f} s)")
    typer.echo(f"  manifest   {info.path.name}.json")
    typer.echo(f"  dialect    {info.dialect}")
    typer.echo(f"  revision   {info.alembic_revision}")
    typer.echo(f"  sha256     {info.sha256}")
    typer.echo(f"  created at {info.created_at.isoformat()}")
    for table, count in info.row_counts.items():
        typer.echo(f"  {table:<24} {count:>8}")


@db_app.command("restore")
def db_restore(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Backup file written by `lotse db backup`"),
    yes: bool = typer.Option(False, "--yes", help="Replace a target database that is not empty"),
    pg_bin: Path = typer.Option(None, help="Directory holding pg_restore (default: newest /usr/lib/postgresql/*/bin, then PATH)"),
) -> None:
    """Restore a backup into the configured database. Stop the service first."""
    import time

    from core.backup import restore
    from core.errors import LotseError

    settings: Settings = ctx.obj
    started = time.perf_counter()
    try:
        info = restore(file, settings.resolved_database_url, replace=yes, pg_bin=pg_bin)
    except LotseError as exc:
        hint = " (pass --yes to replace it)" if exc.code == "conflict" else ""
        typer.echo(f"restore refused: {exc}{hint}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"restored {info.source} ({info.dialect}, revision {info.alembic_revision}, "
               f"{time.perf_counter() - started:.2f} s)")
    if not info.at_head:
        typer.echo("  the schema is older than this Lotse: run `lotse db upgrade` (or start with auto-migrate)")
    typer.echo(f"  {'table':<24} {'restored':>8} {'manifest':>8}")
    expected = info.expected or {}
    for table in sorted(set(info.row_counts) | set(expected)):
        restored = info.row_counts.get(table, "-")
        listed = expected.get(table, "-") if info.expected is not None else "-"
        typer.echo(f"  {table:<24} {restored:>8} {listed:>8}")
    if info.expected is None:
        typer.echo("  no manifest beside the file: row counts not compared")
    elif info.mismatches:
        typer.echo(f"row counts differ from the manifest: {', '.join(info.mismatches)}", err=True)
        raise typer.Exit(1)
    else:
        typer.echo("  row counts match the manifest")


@telegram_app.command("set-webhook")
def set_webhook(ctx: typer.Context, url: str = typer.Option(None, help="Public URL; default LOTSE_PUBLIC_URL")) -> None:
    """Register {public_url}/telegram/webhook with Telegram, with the secret token."""
    import asyncio

    from telegram import Bot

    settings: Settings = ctx.obj
    if not settings.telegram_token or not settings.telegram_webhook_secret:
        typer.echo("LOTSE_TELEGRAM_TOKEN and LOTSE_TELEGRAM_WEBHOOK_SECRET must be set", err=True)
        raise typer.Exit(2)
    target = (url or settings.public_url).rstrip("/") + "/telegram/webhook"

    async def register() -> bool:
        bot = Bot(settings.telegram_token.get_secret_value(), base_url=settings.telegram_api_url)  # type: ignore[union-attr]
        async with bot:
            return await bot.set_webhook(
                target,
                secret_token=settings.telegram_webhook_secret.get_secret_value(),  # type: ignore[union-attr]
                allowed_updates=["message", "callback_query"],
            )

    ok = asyncio.run(register())
    typer.echo(f"webhook {'set' if ok else 'NOT set'}: {target}")
    raise typer.Exit(0 if ok else 1)


@app.command("test-conversations")
def test_conversations(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help="YAML story files"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show passing steps too"),
) -> None:
    """Run YAML conversation stories through the real dialogue engine (no network)."""
    import tempfile

    from bot.stories import StoryRunner, load_stories
    from lotse.app import build

    settings: Settings = ctx.obj
    with tempfile.TemporaryDirectory() as scratch:
        isolated = settings.model_copy(update={
            "database_url": f"sqlite:///{scratch}/stories.db",
            "nlu_model_path": settings.resolved_nlu_model_path,
            "telegram_token": None,
        })
        runner = StoryRunner(build(isolated).dialogue)
        failed = total = 0
        for path in files:
            try:
                stories = load_stories(path)
            except (OSError, ValueError) as exc:
                typer.echo(f"ERROR {path}: {exc}")
                failed += 1
                continue
            for story in stories:
                total += 1
                result = runner.run(story, str(path))
                failed += not result.ok
                typer.echo(f"{'PASS' if result.ok else 'FAIL'} {path}: {story.story}")
                for step in result.steps:
                    if verbose or not step.ok:
                        typer.echo(f"    step {step.index}: {'ok' if step.ok else '; '.join(step.problems)}")
        typer.echo(f"{total - failed}/{total} stories passed")
    raise typer.Exit(1 if failed else 0)


def main() -> None:
    try:
        app()
    except ValueError as exc:  # settings refusing unsafe values
        typer.echo(f"configuration error: {exc}", err=True)
        sys.exit(2)
