"""`lotse bench`: the load benchmark and the fault run (figures printed, JSON on request)."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Benchmarks through the real channels: load and faults.", no_args_is_help=True)


@app.command("load")
def load(
    database_url: str = typer.Option("", help="PostgreSQL URL; empty: a new SQLite file"),
    processes: int = typer.Option(1, min=1, max=8, help="App processes (role web)"),
    rate: float = typer.Option(500.0, min=1.0, help="Offered inbound messages per second"),
    duration: float = typer.Option(30.0, min=1.0, help="Measured seconds"),
    warmup: float = typer.Option(10.0, min=0.0, help="Seconds before measuring"),
    users: int = typer.Option(1000, min=10, help="Simulated people (each speaks in turn)"),
    telegram_share: float = typer.Option(0.5, min=0.0, max=1.0, help="Share of people on Telegram"),
    booking_share: float = typer.Option(0.1, min=0.0, max=1.0, help="Share of people who book"),
    work_dir: Path = typer.Option(None, help="Where the database, model and logs go"),
    json_out: Path = typer.Option(None, "--json", help="Also write the figures as JSON here"),
) -> None:
    """Simulated newcomers through the Telegram webhook and the web-chat API."""
    from bench.load import LoadConfig, describe, run_load, to_json

    report = run_load(
        LoadConfig(
            database_url=database_url, processes=processes, rate=rate, duration=duration, warmup=warmup,
            users=users, telegram_share=telegram_share, booking_share=booking_share, work_dir=work_dir,
        )
    )
    typer.echo(describe(report))
    if json_out:
        json_out.write_text(to_json(report), encoding="utf-8")


@app.command("turn")
def turn(
    database_url: str = typer.Option("", help="PostgreSQL URL; empty: a new SQLite file"),
    turns: int = typer.Option(3000, min=10, help="Messages to handle"),
    users: int = typer.Option(300, min=10, help="Simulated people"),
    work_dir: Path = typer.Option(None, help="Where the database and model go"),
    profile: Path = typer.Option(None, help="Also write a cProfile of the turns here and print its top"),
) -> None:
    """The dialogue turn alone, in this process: what a message costs before any HTTP."""
    import tempfile

    from bench.deployment import train_model
    from bench.processes import fresh_database
    from bench.turn import run_turns
    from core.settings import Settings
    from lotse.app import build

    work = work_dir or Path(tempfile.mkdtemp(prefix="lotse-turn-"))
    work.mkdir(parents=True, exist_ok=True)
    model = work / "nlu-model.joblib"
    train_model(model)
    with fresh_database(database_url, Path(tempfile.mkdtemp(dir=work))) as url:
        lotse = build(Settings(database_url=url, data_dir=work / "var", nlu_model_path=model))
        try:
            run_turns(lotse.dialogue, min(300, turns), users, seed=1)  # warm caches and connections
            report = run_turns(lotse.dialogue, turns, users, profile=profile)
        finally:
            lotse.db.dispose()
    typer.echo(report.describe())


@app.command("fault")
def fault(
    database_url: str = typer.Option("", help="PostgreSQL URL; empty: a new SQLite file"),
    duration: float = typer.Option(600.0, min=10.0, help="Seconds of traffic"),
    rate: float = typer.Option(100.0, min=1.0, help="Inbound messages per second"),
    users: int = typer.Option(2500, min=10, help="Simulated people"),
    app_kill_every: float = typer.Option(60.0, min=5.0, help="Seconds between SIGKILLs of an app process"),
    scheduler_kill_every: float = typer.Option(100.0, min=5.0, help="Seconds between SIGKILLs of the scheduler"),
    work_dir: Path = typer.Option(None, help="Where the database, model and logs go"),
    json_out: Path = typer.Option(None, "--json", help="Also write the figures as JSON here"),
) -> None:
    """Mixed traffic while app processes and the scheduler are SIGKILLed and restarted."""
    from bench.fault import FaultConfig, describe, run_fault, to_json

    report = run_fault(
        FaultConfig(
            database_url=database_url, duration=duration, rate=rate, users=users,
            app_kill_every=app_kill_every, scheduler_kill_every=scheduler_kill_every, work_dir=work_dir,
        )
    )
    typer.echo(describe(report))
    if json_out:
        json_out.write_text(to_json(report), encoding="utf-8")
    failed = (
        report.replies_lost + report.replies_duplicated + report.bookings_lost + report.bookings_doubled
        + report.reminders_missing + report.reminders_twice
    )
    raise typer.Exit(1 if failed or report.gave_up else 0)
