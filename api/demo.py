"""Demo access for development and tests: a credential and a login per team, only when asked."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from api.auth import API_SCOPES
from core.credential import issue_credential
from core.errors import InvalidInput
from core.municipality import Team
from core.settings import Mode, Settings
from core.staff import StaffUser, create_user

DEMO_PASSWORD = "lotse-demo-passwort"


@dataclass(frozen=True)
class DemoAccess:
    team: str
    token: str
    email: str
    password: str


def seed_demo_access(session: Session, settings: Settings, teams: list[str] | None = None) -> list[DemoAccess]:
    """Refused in production: demo passwords are public knowledge."""
    if settings.mode is Mode.PRODUCTION:
        raise InvalidInput("demo access is never created in production")
    statement = select(Team).where(Team.receives_intakes == True)
    found: list[DemoAccess] = []
    for team in session.exec(statement.order_by(Team.slug)):
        if teams is not None and team.slug not in teams:
            continue
        assert team.id is not None
        _, token = issue_credential(session, f"Demo {team.slug}", list(API_SCOPES), team_id=team.id)
        email = f"{team.slug}@demo.lotse.invalid"
        if session.exec(select(StaffUser).where(StaffUser.email == email)).first() is None:
            create_user(session, email, DEMO_PASSWORD, team_id=team.id)
        found.append(DemoAccess(team.slug, token, email, DEMO_PASSWORD))
    return found
