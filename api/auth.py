"""Who is asking: team API credentials (Bearer) or dashboard logins (signed cookie).

A principal sees the teams it may see: its own team, the teams of its municipality and the
towns below it, or all (operators). Intakes of other teams answer 404, never 403, so that
their existence does not leak.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.problems import Unauthenticated
from core.credential import SCOPES, ApiCredential, authenticate
from core.db import transaction
from core.errors import NotFound, PermissionDenied
from core.municipality import Municipality, Team
from core.settings import Settings
from core.staff import StaffRole, StaffUser

CALENDAR_SCOPE = "calendar:read"
WEBHOOK_SCOPE = "webhooks:write"
API_SCOPES = (*SCOPES, WEBHOOK_SCOPE)
READ_SCOPES = frozenset({"intakes:read", "consents:read"})
COOKIE = "lotse_staff"
SESSION_SECONDS = 8 * 3600


@dataclass(frozen=True)
class Principal:
    actor: str  # "credential:<key_id>" or "user:<id>": goes into the audit log
    scopes: frozenset[str]
    team_ids: frozenset[int] | None  # None: every team
    municipality_ids: frozenset[int] | None  # for statistics; None: every municipality
    home_team_id: int | None = None
    email: str | None = None

    def sees_team(self, team_id: int) -> bool:
        return self.team_ids is None or team_id in self.team_ids

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise PermissionDenied(f"this credential lacks the scope {scope}")


def engine_of(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


def settings_of(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def db_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    with transaction(engine_of(request)) as session:
        yield session


DbSession = Annotated[Session, Depends(db_session)]


def municipality_tree(session: Session, root_id: int) -> frozenset[int]:
    """A municipality and every municipality below it (Kreis -> towns)."""
    found = {root_id}
    frontier = [root_id]
    while frontier:
        rows = session.exec(select(Municipality.id).where(col(Municipality.parent_id).in_(frontier))).all()
        frontier = [r for r in rows if r is not None and r not in found]
        found.update(frontier)
    return frozenset(found)


def _teams_in(session: Session, municipality_ids: frozenset[int]) -> frozenset[int]:
    rows = session.exec(select(Team.id).where(col(Team.municipality_id).in_(municipality_ids))).all()
    return frozenset(r for r in rows if r is not None)


def principal_for_credential(session: Session, credential: ApiCredential) -> Principal:
    scopes = frozenset(credential.scopes)
    actor = f"credential:{credential.key_id}"
    if credential.team_id is not None:
        team = session.get(Team, credential.team_id)
        municipalities = frozenset({team.municipality_id}) if team else frozenset()
        return Principal(actor, scopes, frozenset({credential.team_id}), municipalities, credential.team_id)
    if credential.municipality_id is not None:
        tree = municipality_tree(session, credential.municipality_id)
        return Principal(actor, scopes, _teams_in(session, tree), tree)
    return Principal(actor, scopes, frozenset(), frozenset())


def principal_for_user(session: Session, user: StaffUser) -> Principal:
    actor = f"user:{user.id}"
    everything = frozenset(API_SCOPES)
    if user.role is StaffRole.ADMIN:
        return Principal(actor, everything, None, None, email=user.email)
    if user.role is StaffRole.TEAM and user.team_id is not None:
        team = session.get(Team, user.team_id)
        municipalities = frozenset({team.municipality_id}) if team else frozenset()
        return Principal(actor, everything, frozenset({user.team_id}), municipalities, user.team_id, user.email)
    assert user.municipality_id is not None
    tree = municipality_tree(session, user.municipality_id)
    return Principal(actor, READ_SCOPES, _teams_in(session, tree), tree, email=user.email)


def bearer_principal(request: Request, session: DbSession) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("an Authorization: Bearer token is required")
    try:
        credential = authenticate(session, token.strip())
    except PermissionDenied as exc:
        raise Unauthenticated("invalid or revoked token") from exc
    if CALENDAR_SCOPE in credential.scopes and len(credential.scopes) == 1:
        raise Unauthenticated("a calendar feed token is not an API token")
    session.add(credential)
    return principal_for_credential(session, credential)


ApiPrincipal = Annotated[Principal, Depends(bearer_principal)]


def owned_team(session: Session, principal: Principal, slug: str) -> Team:
    """The team named in the path, if the principal may see it (else 404)."""
    team = session.exec(select(Team).where(Team.slug == slug)).first()
    if team is None or team.id is None or not principal.sees_team(team.id):
        raise NotFound(f"team {slug!r}")
    return team


# --- dashboard sessions: a signed cookie bound to the password hash ---------------------------


def _signature(settings: Settings, payload: str, user: StaffUser) -> str:
    key = hashlib.sha256(("staff-session:" + settings.secret_key.get_secret_value()).encode()).digest()
    return hmac.new(key, f"{payload}|{user.password_hash}".encode(), hashlib.sha256).hexdigest()


def session_cookie(settings: Settings, user: StaffUser, now: float | None = None) -> str:
    """`<user id>.<expiry>.<signature>`: a password change ends every session of the user."""
    expires = int((now or time.time()) + SESSION_SECONDS)
    payload = f"{user.id}.{expires}"
    return f"{payload}.{_signature(settings, payload, user)}"


def user_from_cookie(session: Session, settings: Settings, value: str | None) -> StaffUser | None:
    if not value or value.count(".") != 2:
        return None
    user_id, expires, signature = value.split(".")
    if not user_id.isdigit() or not expires.isdigit() or int(expires) < time.time():
        return None
    user = session.get(StaffUser, int(user_id))
    if user is None or user.disabled_at is not None:
        return None
    if not hmac.compare_digest(_signature(settings, f"{user_id}.{expires}", user), signature):
        return None
    return user


def csrf_token(settings: Settings, cookie: str) -> str:
    key = ("csrf:" + settings.secret_key.get_secret_value()).encode()
    return hmac.new(key, cookie.encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class StaffContext:
    principal: Principal
    user: StaffUser
    csrf: str


def staff_context(request: Request, session: DbSession) -> StaffContext:
    settings = settings_of(request)
    cookie = request.cookies.get(COOKIE)
    user = user_from_cookie(session, settings, cookie)
    if user is None or cookie is None:
        raise Unauthenticated("please log in")
    return StaffContext(principal_for_user(session, user), user, csrf_token(settings, cookie))


Staff = Annotated[StaffContext, Depends(staff_context)]
