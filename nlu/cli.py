"""`lotse nlu ...`: train, predict, evaluate, check, export-rasa, bench.

The root CLI passes the Settings object as ctx.obj. Only results go to stdout; logs go
to stderr, so `predict` output can be piped into other tools.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from core.settings import Settings
from nlu.corpus import DATA_DIR, EVAL_DIR, CorpusError, load_examples
from nlu.decision import FallbackPolicy
from nlu.result import ParseResult

app = typer.Typer(
    help="Intent classification: training, prediction, evaluation.", no_args_is_help=True
)

DataOption = Annotated[Path, typer.Option("--data", help="Directory of <lang>.yml training files.")]


def _settings(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    if not isinstance(settings, Settings):
        raise typer.BadParameter("the root CLI must pass a Settings object")
    return settings


@app.command()
def train(ctx: typer.Context, data: DataOption = DATA_DIR) -> None:
    """Train the builtin model on the data files and write the artefact."""
    from nlu.model import save_model
    from nlu.service import current_data_hash
    from nlu.training import train_model

    settings = _settings(ctx)
    examples = load_examples([data])
    policy = FallbackPolicy(settings.nlu_threshold, settings.nlu_margin, 0.15)
    model, report = train_model(examples, current_data_hash(data), policy)
    path = settings.resolved_nlu_model_path
    save_model(model, path)
    typer.echo(f"model written to {path} ({path.stat().st_size / 1e6:.1f} MB)")
    typer.echo(f"examples {report.examples}, intents {report.intents}, features {report.features}")
    typer.echo(
        f"training time {report.seconds:.1f} s, temperature {report.temperature:.3f}, "
        f"emergency floor {report.emergency_floor:.2f}"
    )
    typer.echo(
        "calibration split (20% of the training data) at threshold "
        f"{settings.nlu_threshold} / margin {settings.nlu_margin}:"
    )
    for key, value in report.dev.items():
        typer.echo(f"  {key:26} {value:.3f}")


class BadLineError(ValueError):
    """One input line of `predict` is not a request; reported on stdout for that line."""


def _request(line: str) -> tuple[str, str | None]:
    record = json.loads(line)
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise BadLineError("expected an object with a string 'text'")
    lang = record.get("lang")
    if lang is not None and not isinstance(lang, str):
        raise BadLineError("'lang' must be a string")
    return record["text"], lang


def _result_line(result: ParseResult) -> dict[str, object]:
    return {
        "text": result.text,
        "intent": result.intent.name,
        "confidence": round(result.intent.confidence, 6),
        "language": result.language,
        "intent_ranking": [
            {"name": s.name, "confidence": round(s.confidence, 6)} for s in result.intent_ranking
        ],
    }


@app.command()
def predict(ctx: typer.Context) -> None:
    """Read JSON Lines {"text", "lang"?} on stdin; write one JSON object per line to stdout."""
    from nlu.service import build_classifier

    classifier = build_classifier(_settings(ctx))
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            text, lang = _request(line)
            output: dict[str, object] = _result_line(classifier.parse(text, lang))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            output = {"error": str(exc).splitlines()[0]}
        sys.stdout.write(json.dumps(output, ensure_ascii=False) + "\n")
        sys.stdout.flush()


@app.command()
def evaluate(
    ctx: typer.Context,
    data: Annotated[
        list[Path], typer.Option("--data", help="nlu.yml / JSONL files or directories.")
    ],
    out: Annotated[Path | None, typer.Option("--out", help="Report directory.")] = None,
) -> None:
    """Classify labelled examples and write intent_report.json/.txt and intent_errors.json."""
    from nlu.evaluation import build_report, predict_all, render_text, write_report
    from nlu.service import build_classifier

    settings = _settings(ctx)
    try:
        examples = load_examples(data)
    except CorpusError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    classifier = build_classifier(settings)
    predictions = predict_all(classifier.parse, examples)
    report = build_report(predictions)
    paths = write_report(report, predictions, out or settings.data_dir / "nlu-report")
    typer.echo(render_text(report))
    typer.echo("written: " + ", ".join(str(p) for p in paths))


@app.command()
def check(
    data: DataOption = DATA_DIR,
    held_out: Annotated[
        Path | None, typer.Option("--held-out", help="Also check this split.")
    ] = None,
) -> None:
    """Validate the training data against intents.yml; exit 1 on errors."""
    from nlu.validation import Level, check_data, check_leakage

    issues = check_data(data)
    if held_out is not None and held_out.exists():
        issues += check_data(held_out, min_examples=3, recommended=5)
        try:
            issues += check_leakage(load_examples([data]), load_examples([held_out]))
        except CorpusError:
            pass  # already reported by check_data
    for issue in issues:
        typer.echo(str(issue))
    errors = sum(1 for issue in issues if issue.level is Level.ERROR)
    typer.echo(f"{errors} errors, {len(issues) - errors} warnings")
    if errors:
        raise typer.Exit(1)


@app.command("export-rasa")
def export_rasa(
    target: Annotated[Path, typer.Argument(help="Directory for the Rasa project.")],
    data: DataOption = DATA_DIR,
) -> None:
    """Write a Rasa 3.x project (config.yml, domain.yml, data/nlu.yml) from our data."""
    from nlu.rasa_export import export_rasa_project

    for path in export_rasa_project(load_examples([data]), target):
        typer.echo(f"written: {path}")


@app.command()
def bench(
    ctx: typer.Context,
    data: DataOption = DATA_DIR,
    held_out: Annotated[Path, typer.Option("--held-out")] = EVAL_DIR,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Training time, single-message latency p50/p99, throughput, RSS, model size."""
    import tempfile

    from nlu.benchmark import run_benchmark

    settings = _settings(ctx)
    train_examples = load_examples([data])
    source = load_examples([held_out]) if held_out.exists() else train_examples
    messages = [e.text for e in source]
    with tempfile.TemporaryDirectory() as tmp:
        figures = run_benchmark(
            settings, train_examples, messages, Path(tmp) / "model.joblib", data
        )
    typer.echo(figures.to_json() if as_json else figures.render())
