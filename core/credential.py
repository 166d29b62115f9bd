"""API credentials of teams: only a hash is stored; the secret is shown once."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from core.clock import utcnow
from core.columns import json_column
from core.errors import PermissionDenied

SCOPES = ("intakes:read", "intakes:write", "slots:write", "consents:read", "handoffs:write")


class ApiCredential(SQLModel, table=True):
    __tablename__ = "api_credential"
    __table_args__ = (UniqueConstraint("key_id", name="uq_api_credential_key_id"),)

    id: int | None = Field(default=None, primary_key=True)
    key_id: str = Field(max_length=24)
    secret_hash: str = Field(max_length=64)
    name: str = Field(max_length=120)
    team_id: int | None = Field(default=None, foreign_key="team.id", ondelete="CASCADE")
    municipality_id: int | None = Field(
        default=None, foreign_key="municipality.id", ondelete="CASCADE"
    )
    scopes: list[str] = Field(default_factory=list, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_credential(
    session: Session,
    name: str,
    scopes: list[str],
    team_id: int | None = None,
    municipality_id: int | None = None,
) -> tuple[ApiCredential, str]:
    """A new credential and its token `lotse_<key_id>_<secret>`, which is never stored."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    credential = ApiCredential(
        key_id=key_id,
        secret_hash=_hash(secret),
        name=name,
        team_id=team_id,
        municipality_id=municipality_id,
        scopes=scopes,
    )
    session.add(credential)
    session.flush()
    return credential, f"lotse_{key_id}_{secret}"


def authenticate(session: Session, token: str) -> ApiCredential:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "lotse":
        raise PermissionDenied("malformed token")
    credential = session.exec(
        select(ApiCredential).where(ApiCredential.key_id == parts[1])
    ).first()
    if credential is None or credential.revoked_at is not None:
        raise PermissionDenied("unknown or revoked token")
    if not hmac.compare_digest(credential.secret_hash, _hash(parts[2])):
        raise PermissionDenied("wrong token")
    credential.last_used_at = utcnow()
    return credential
