"""`lotse admin`: credentials and dashboard logins for teams and municipalities."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import select

from api.auth import API_SCOPES
from api.demo import seed_demo_access
from core.clock import utcnow
from core.credential import ApiCredential, issue_credential
from core.db import build_engine, transaction
from core.municipality import municipality_by_slug, team_by_slug
from core.settings import Settings
from core.staff import create_user

app = typer.Typer(help="API credentials and dashboard users", no_args_is_help=True)


def _scopes(text: str) -> list[str]:
    scopes = [s.strip() for s in text.split(",") if s.strip()]
    unknown = sorted(set(scopes) - set(API_SCOPES))
    if unknown or not scopes:
        raise typer.BadParameter(f"unknown scopes {unknown}; choose from {', '.join(API_SCOPES)}")
    return scopes


@app.command("create-credential")
def create_credential(
    scopes: Annotated[str, typer.Option(help="comma-separated, e.g. intakes:read,intakes:write")],
    team: Annotated[str | None, typer.Option(help="team slug")] = None,
    municipality: Annotated[str | None, typer.Option(help="municipality slug")] = None,
    name: Annotated[str, typer.Option()] = "API",
) -> None:
    """Print a new token once; only its hash is stored."""
    if (team is None) == (municipality is None):
        raise typer.BadParameter("give exactly one of --team or --municipality")
    with transaction(build_engine(Settings())) as session:
        team_id = team_by_slug(session, team).id if team else None
        municipality_id = municipality_by_slug(session, municipality).id if municipality else None
        credential, token = issue_credential(session, name, _scopes(scopes), team_id, municipality_id)
        typer.echo(f"key id: {credential.key_id}\ntoken (shown once): {token}")


@app.command("rotate-credential")
def rotate_credential(key_id: str) -> None:
    """Revoke a credential and issue a new one with the same scopes and owner."""
    with transaction(build_engine(Settings())) as session:
        old = session.exec(select(ApiCredential).where(ApiCredential.key_id == key_id)).first()
        if old is None or old.revoked_at is not None:
            raise typer.BadParameter(f"no active credential {key_id}")
        old.revoked_at = utcnow()
        session.add(old)
        credential, token = issue_credential(session, old.name, list(old.scopes), old.team_id, old.municipality_id)
        typer.echo(f"revoked {key_id}\nkey id: {credential.key_id}\ntoken (shown once): {token}")


@app.command("create-user")
def create_user_command(
    email: Annotated[str, typer.Option()],
    team: Annotated[str | None, typer.Option(help="team slug: a case manager")] = None,
    municipality: Annotated[str | None, typer.Option(help="municipality slug: read-only admin")] = None,
    admin: Annotated[bool, typer.Option(help="operator: sees everything")] = False,
    password: Annotated[str | None, typer.Option(help="prompted when left out")] = None,
) -> None:
    if sum([team is not None, municipality is not None, admin]) != 1:
        raise typer.BadParameter("give exactly one of --team, --municipality or --admin")
    secret = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with transaction(build_engine(Settings())) as session:
        team_id = team_by_slug(session, team).id if team else None
        municipality_id = municipality_by_slug(session, municipality).id if municipality else None
        user = create_user(session, email, secret, team_id, municipality_id, admin)
        typer.echo(f"user {user.email} ({user.role})")


@app.command("seed-demo")
def seed_demo(team: Annotated[list[str] | None, typer.Option(help="team slugs; default all")] = None) -> None:
    """Development only: a token and a login per team, printed once."""
    settings = Settings()
    with transaction(build_engine(settings)) as session:
        for access in seed_demo_access(session, settings, team):
            typer.echo(f"{access.team}\t{access.email}\t{access.password}\t{access.token}")
