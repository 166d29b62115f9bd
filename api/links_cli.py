"""`lotse links ...`: create, revoke and count volunteers' links from the command line."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from api.flyer import FlyerSize, FlyerUnavailable, choose_languages, render_flyer
from api.qr import qr_png, qr_svg
from core import links
from core.db import build_engine, transaction
from core.errors import LotseError
from core.settings import Settings

app = typer.Typer(help="Volunteers' links: create, revoke, stats.", no_args_is_help=True)


def _settings(ctx: typer.Context) -> Settings:
    return ctx.obj if isinstance(ctx.obj, Settings) else Settings()


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


@app.command()
def create(
    ctx: typer.Context,
    municipality: Annotated[str, typer.Option("--municipality", help="Municipality slug, e.g. moers")],
    language: Annotated[str, typer.Option("--language", help="Language tag: de en ar uk ru fa tr")],
    topic: Annotated[str | None, typer.Option("--topic", help="A topic intent or 'book'")] = None,
    referrer_name: Annotated[
        str | None, typer.Option("--referrer-name", help="Register a referrer (name or organisation)")
    ] = None,
    expires_days: Annotated[int | None, typer.Option("--expires-days", min=1)] = None,
    qr_out: Annotated[Path | None, typer.Option("--qr-out", help="Write the QR code (.svg or .png)")] = None,
    flyer_out: Annotated[Path | None, typer.Option("--flyer-out", help="Write a PDF flyer")] = None,
    flyer_size: Annotated[FlyerSize, typer.Option("--flyer-size")] = FlyerSize.A4,
    flyer_langs: Annotated[str | None, typer.Option("--flyer-langs", help="Up to four, e.g. de,ar")] = None,
) -> None:
    """Create a code and print the Telegram and web-chat links (and a new referrer key, once)."""
    settings = _settings(ctx)
    engine = build_engine(settings)
    key = None
    try:
        with transaction(engine) as session:
            referrer = None
            if referrer_name:
                referrer, key = links.register_referrer(session, referrer_name)
            link = links.create_code(session, municipality, language, topic, referrer, expires_days)
            place = links.place_of(session, link)
            targets = links.link_targets(settings, link, place)
            place_name, code, code_language = place.name, link.code, link.language
        languages = choose_languages(flyer_langs, [code_language or "de", "de"]) if flyer_out else []
    except LotseError as exc:
        raise _fail(f"error: {exc}") from exc
    finally:
        engine.dispose()
    typer.echo(f"code      {code}")
    typer.echo(f"telegram  {targets.telegram or '(switched off for this municipality)'}")
    typer.echo(f"web chat  {targets.webchat or '(switched off for this municipality)'}")
    if key:
        typer.echo(f"referrer key (shown once, not stored): {key}")
    if qr_out:
        data = qr_png(targets.preferred) if qr_out.suffix.lower() == ".png" else qr_svg(targets.preferred)
        qr_out.write_bytes(data)
        typer.echo(f"QR code   {qr_out}")
    if flyer_out:
        try:
            pdf = render_flyer(place_name, targets.preferred, languages, flyer_size, web_link=targets.webchat)
        except FlyerUnavailable as exc:
            raise _fail(f"error: {exc}", 3) from exc
        flyer_out.write_bytes(pdf)
        typer.echo(f"flyer     {flyer_out} ({flyer_size.value.upper()}, {','.join(languages)})")


@app.command()
def revoke(ctx: typer.Context, code: Annotated[str, typer.Argument(help="The code to revoke")]) -> None:
    """Revoke a code (as operator): whoever uses it afterwards starts Lotse normally."""
    engine = build_engine(_settings(ctx))
    try:
        with transaction(engine) as session:
            link = links.revoke(session, code)
            revoked_at = link.revoked_at
    except LotseError as exc:
        raise _fail(f"error: {exc}") from exc
    finally:
        engine.dispose()
    typer.echo(f"revoked {code} at {revoked_at:%Y-%m-%d %H:%M} UTC")


@app.command()
def stats(
    ctx: typer.Context,
    referrer_key: Annotated[str, typer.Option("--referrer-key", help="The key shown at registration")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
) -> None:
    """The referrer's own codes with counts (under 5 shown as "<5")."""
    engine = build_engine(_settings(ctx))
    try:
        with Session(engine) as session:
            referrer = links.authenticate_referrer(session, referrer_key)
            rows = links.counts_for_referrer(session, referrer)
    except LotseError as exc:
        raise _fail(f"error: {exc}", 2) from exc
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], default=str, indent=2))
        return
    typer.echo(f"{'code':<14} {'place':<28} {'lang':<4} {'status':<8} {'conv':>5} {'quest':>5} {'book':>5}")
    for r in rows:
        typer.echo(
            f"{r.code:<14} {r.municipality or '':<28} {r.language or '':<4} {r.status:<8} "
            f"{r.conversations!s:>5} {r.questions!s:>5} {r.bookings!s:>5}"
        )
