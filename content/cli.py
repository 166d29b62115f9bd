"""`lotse content ...`: the editors' commands (check, coverage, stamp, translate, import)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from content.check import check_content, summarise
from content.coverage import coverage_rows, render_html, render_json, render_text
from content.editor import EditError, stamp_file
from content.integreat import DEFAULT_MAPPING, build_topic_files, load_mapping, write_topic_files
from content.loader import DEFAULT_ROOT, load_content
from content.translate import ArgosTranslator, TranslatorUnavailable, translate_file
from core.language import CURATED, SOURCE_LANGUAGE
from core.settings import Settings

app = typer.Typer(help="Check, measure, stamp, translate and import curated content.",
                  no_args_is_help=True)

RootOption = Annotated[
    Path | None,
    typer.Option("--root", help="The content data directory (default: settings or content/data)."),
]


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    HTML = "html"


def _root(ctx: typer.Context, root: Path | None) -> Path:
    if root is not None:
        return root
    settings = ctx.obj if isinstance(ctx.obj, Settings) else None
    if settings is not None and settings.content_dir is not None:
        return settings.content_dir
    return DEFAULT_ROOT


def _topic_files(root: Path) -> list[Path]:
    return sorted((root / "topics").glob("*/*.yml"))


def _curated(language: str) -> str:
    if language not in CURATED:
        raise typer.BadParameter(f"{language!r} is not curated: {', '.join(CURATED)}")
    return language


@app.command()
def check(
    ctx: typer.Context,
    root: RootOption = None,
    strict: Annotated[bool, typer.Option(help="Treat warnings as errors.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print errors only.")] = False,
) -> None:
    """Validate every file and cross-check them; exit 1 on errors (or warnings with --strict)."""
    problems = check_content(load_content(_root(ctx, root)))
    for problem in problems:
        if not (quiet and problem.severity == "warning"):
            typer.echo(str(problem))
    typer.echo(summarise(problems))
    failing = [p for p in problems if strict or p.severity == "error"]
    raise typer.Exit(1 if failing else 0)


@app.command()
def coverage(
    ctx: typer.Context,
    root: RootOption = None,
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.TEXT,
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
    fail_on_missing: Annotated[bool, typer.Option("--fail-on-missing")] = False,
) -> None:
    """Topic x language x municipality: where each answer resolves from, and its status."""
    content = load_content(_root(ctx, root))
    if content.errors:
        typer.echo(f"{len(content.errors)} content error(s) ignored: run `lotse content check`",
                   err=True)
    rows = coverage_rows(content)
    render = {Format.TEXT: render_text, Format.JSON: render_json, Format.HTML: render_html}
    report = render[format](rows)
    if output is None:
        typer.echo(report, nl=False)
    else:
        output.write_text(report, encoding="utf-8")
        typer.echo(f"wrote {output}")
    missing = sum(row.level == "missing" for row in rows)
    if fail_on_missing and missing:
        typer.echo(f"{missing} missing answer(s)", err=True)
        raise typer.Exit(1)


@app.command()
def stamp(
    ctx: typer.Context,
    root: RootOption = None,
    all_: Annotated[bool, typer.Option("--all", help="Re-stamp every translation "
                                                     "(after a reviewer confirmed them).")] = False,
) -> None:
    """Record the German text's hash in translations, so they count as made from it."""
    failed = 0
    total = 0
    for path in _topic_files(_root(ctx, root)):
        try:
            stamped = stamp_file(path, restamp=all_)
        except EditError as exc:
            typer.echo(f"error: {exc}", err=True)
            failed += 1
            continue
        if stamped:
            total += len(stamped)
            typer.echo(f"{path}: {', '.join(stamped)}")
    typer.echo(f"stamped {total} translation(s); {failed} file(s) failed")
    raise typer.Exit(1 if failed else 0)


@app.command()
def translate(
    ctx: typer.Context,
    to: Annotated[str, typer.Option("--to", help="Target language (BCP-47 tag).")],
    source: Annotated[str, typer.Option("--from")] = SOURCE_LANGUAGE,
    dry_run: Annotated[bool, typer.Option("--dry-run")] = False,
    root: RootOption = None,
) -> None:
    """Fill missing translations by machine (argostranslate), marked machine_translated."""
    _curated(to)
    _curated(source)
    if to == source:
        raise typer.BadParameter("--to and --from are the same language")
    translator = None
    if not dry_run:
        try:
            translator = ArgosTranslator()
            translator.require(source, to)
        except TranslatorUnavailable as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
    answers = items = failed = 0
    for path in _topic_files(_root(ctx, root)):
        try:
            report = translate_file(path, translator, to, source)
        except EditError as exc:
            typer.echo(f"error: {exc}", err=True)
            failed += 1
            continue
        for refusal in report.refused:
            typer.echo(f"refused: {path}: {refusal}", err=True)
        if report.answer or report.checklist_items:
            typer.echo(f"{path}: answer {'yes' if report.answer else 'no'}, "
                       f"{report.checklist_items} checklist item(s)")
        answers += report.answer
        items += report.checklist_items
    verb = "would translate" if dry_run else "translated"
    typer.echo(f"{verb} {answers} answer(s) and {items} checklist item(s) into {to}")
    raise typer.Exit(1 if failed else 0)


@app.command("import-integreat")
def import_integreat(
    ctx: typer.Context,
    pages: Annotated[Path, typer.Option("--pages", exists=True, dir_okay=False)],
    region: Annotated[str, typer.Option("--region", help="The Integreat region slug.")],
    locations: Annotated[Path | None, typer.Option("--locations", exists=True,
                                                   dir_okay=False)] = None,
    language: Annotated[str, typer.Option("--language")] = SOURCE_LANGUAGE,
    scope: Annotated[str | None, typer.Option(help="Our municipality slug "
                                                   "(default: the region slug).")] = None,
    mapping: Annotated[Path, typer.Option("--mapping", exists=True)] = DEFAULT_MAPPING,
    out: Annotated[Path | None,
                   typer.Option("--out", help="Default: <root>/topics/<scope>.")] = None,
    root: RootOption = None,
) -> None:
    """Turn Integreat API v3 pages and locations JSON into unverified topic files."""
    _curated(language)
    scope = scope or region
    page_data = json.loads(pages.read_text(encoding="utf-8"))
    location_data = json.loads(locations.read_text(encoding="utf-8")) if locations else []
    result = build_topic_files(page_data, location_data, load_mapping(mapping), scope, language)
    target = out or _root(ctx, root) / "topics" / scope
    written = write_topic_files(result, target, language)
    for note in result.notes:
        typer.echo(f"note: {note}")
    for path in written:
        typer.echo(f"wrote {path}")
    typer.echo(f"{len(written)} file(s) written, {len(result.notes)} note(s)")
