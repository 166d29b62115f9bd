"""`lotse bench load`: simulated newcomers through the Telegram webhook and the web-chat API
against real app processes; prints throughput, latency, CPU and memory."""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil
import uvloop  # the simulated world shares the cores: the same cheap loop as the app

from bench.deployment import deployment
from bench.processes import Service, database_cpu_seconds, fresh_database
from bench.simulator import Outcome, Results, Simulator


@dataclass
class LoadConfig:
    database_url: str = ""  # empty: a new SQLite file in the work directory
    processes: int = 1
    rate: float = 500.0
    duration: float = 30.0
    warmup: float = 10.0
    users: int = 1000
    telegram_share: float = 0.5
    booking_share: float = 0.1
    scheduler: bool = True
    work_dir: Path | None = None
    model_path: Path | None = None  # an NLU artefact to reuse (trained here when missing or stale)
    seed: int = 7


@dataclass
class LoadReport:
    database: str
    processes: int
    offered_rate: float
    window_s: float
    messages: int
    throughput: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    by_channel: dict[str, dict[str, float]]
    by_step: dict[str, int]
    app_cpu_percent: list[float]
    app_peak_rss_mb: list[float]
    database_cpu_percent: float
    simulator_cpu_percent: float
    startup_s: list[float]
    errors: dict[str, int]
    lost: int
    duplicated: int
    unanswered_arrivals: int
    bookings_confirmed: int


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def summarise(outcomes: list[Outcome], window: float) -> tuple[dict[str, float], dict[str, dict[str, float]], dict[str, int]]:
    latencies = [o.latency for o in outcomes]
    overall = {
        "messages": float(len(outcomes)),
        "throughput": len(outcomes) / window if window else 0.0,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies, default=0.0) * 1000,
    }
    channels: dict[str, dict[str, float]] = {}
    for channel in ("telegram", "webchat"):
        values = [o.latency for o in outcomes if o.channel == channel]
        channels[channel] = {
            "messages": float(len(values)),
            "p50_ms": percentile(values, 0.50) * 1000,
            "p99_ms": percentile(values, 0.99) * 1000,
            "mean_ms": (statistics.fmean(values) * 1000) if values else 0.0,
        }
    steps: dict[str, int] = {}
    for outcome in outcomes:
        steps[outcome.label] = steps.get(outcome.label, 0) + 1
    return overall, channels, steps


@dataclass
class Measured:
    results: Results
    window: float
    apps: list[Service]
    app_cpu: list[float]
    database_cpu: float
    simulator_cpu: float


async def _drive(config: LoadConfig, work: Path, database_url: str) -> Measured:
    async with deployment(database_url, work, config.processes, config.scheduler, config.model_path) as service:
        apps = service.apps
        simulator = Simulator([a.url for a in apps], service.fake, config.users, config.telegram_share,
                              config.booking_share, config.seed)
        async with simulator:
            marks: dict[str, object] = {}

            async def sample() -> None:
                await asyncio.sleep(config.warmup)  # CPU counts from the measured window on
                own = psutil.Process().cpu_times()
                marks.update(at=time.monotonic(), apps=[a.cpu_seconds() for a in apps],
                             db=database_cpu_seconds(database_url), me=own.user + own.system)
                while True:
                    for process in apps:
                        process.sample_rss()
                    await asyncio.sleep(0.5)

            sampler = asyncio.create_task(sample())
            window = await simulator.run(config.rate, config.duration, config.warmup)
            sampler.cancel()
            elapsed = time.monotonic() - float(marks["at"])  # type: ignore[arg-type]
            own = psutil.Process().cpu_times()
            app_cpu = [
                (a.cpu_seconds() - before) / elapsed * 100
                for a, before in zip(apps, marks["apps"], strict=True)  # type: ignore[call-overload]
            ]
            database = (database_cpu_seconds(database_url) - float(marks["db"])) / elapsed * 100  # type: ignore[arg-type]
            me = (own.user + own.system - float(marks["me"])) / elapsed * 100  # type: ignore[arg-type]
            return Measured(simulator.results, window, list(apps), app_cpu, database, me)


def run_load(config: LoadConfig) -> LoadReport:
    work = config.work_dir or Path(tempfile.mkdtemp(prefix="lotse-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    with fresh_database(config.database_url, work) as database_url:
        measured = uvloop.run(_drive(config, work, database_url))
    results = measured.results
    overall, channels, steps = summarise(results.outcomes, measured.window)
    return LoadReport(
        database="postgresql" if config.database_url.startswith("postgresql") else "sqlite",
        processes=config.processes,
        offered_rate=config.rate,
        window_s=round(measured.window, 2),
        messages=int(overall["messages"]),
        throughput=round(overall["throughput"], 1),
        p50_ms=round(overall["p50_ms"], 1),
        p99_ms=round(overall["p99_ms"], 1),
        max_ms=round(overall["max_ms"], 1),
        by_channel={k: {kk: round(vv, 1) for kk, vv in v.items()} for k, v in channels.items()},
        by_step=steps,
        app_cpu_percent=[round(c, 1) for c in measured.app_cpu],
        app_peak_rss_mb=[round(a.peak_rss / 2**20, 1) for a in measured.apps],
        database_cpu_percent=round(measured.database_cpu, 1),
        simulator_cpu_percent=round(measured.simulator_cpu, 1),
        startup_s=[round(a.ready_after or 0.0, 2) for a in measured.apps],
        errors=results.errors,
        lost=len(results.lost),
        duplicated=len(results.duplicated),
        unanswered_arrivals=results.unanswered,
        bookings_confirmed=sum(len(v) for v in results.booked.values()),
    )


def describe(report: LoadReport) -> str:
    lines = [
        f"load: {report.database}, {report.processes} app process(es), offered {report.offered_rate:.0f} msg/s, "
        f"measured {report.window_s:.0f} s",
        f"  throughput      {report.throughput:.1f} msg/s ({report.messages} messages answered)",
        f"  latency         p50 {report.p50_ms:.1f} ms   p99 {report.p99_ms:.1f} ms   max {report.max_ms:.1f} ms",
    ]
    for channel, figures in report.by_channel.items():
        lines.append(
            f"  {channel:<15} {figures['messages']:.0f} msgs  p50 {figures['p50_ms']:.1f} ms  p99 {figures['p99_ms']:.1f} ms"
        )
    lines += [
        "  mix             " + ", ".join(f"{k} {v}" for k, v in sorted(report.by_step.items())),
        f"  app CPU         {report.app_cpu_percent} % of one core (per process)",
        f"  app peak RSS    {report.app_peak_rss_mb} MB",
        f"  database CPU    {report.database_cpu_percent:.0f} %   simulator CPU {report.simulator_cpu_percent:.0f} %",
        f"  start-up        {report.startup_s} s to /ready",
        f"  lost {report.lost}, duplicated {report.duplicated}, arrivals without an idle user "
        f"{report.unanswered_arrivals}, bookings confirmed {report.bookings_confirmed}",
        f"  errors          {report.errors or 'none'}",
    ]
    return "\n".join(lines)


def to_json(report: LoadReport) -> str:
    return json.dumps(asdict(report), indent=2, ensure_ascii=False)
