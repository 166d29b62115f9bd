"""Opaque deep-link codes: resolved server-side to place, language, topic and referrer."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from core.clock import utcnow

PAYLOAD_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Referrer(SQLModel, table=True):
    """A volunteer or organisation that shares links: a name and nothing else."""

    __tablename__ = "referrer"
    __table_args__ = (UniqueConstraint("access_key_hash", name="uq_referrer_access_key"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    access_key_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class LinkCode(SQLModel, table=True):
    __tablename__ = "link_code"
    __table_args__ = (UniqueConstraint("code", name="uq_link_code_code"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64)
    municipality_id: int | None = Field(
        default=None, foreign_key="municipality.id", ondelete="CASCADE"
    )
    language: str | None = Field(default=None, max_length=16)
    topic: str | None = Field(default=None, max_length=64)
    referrer_id: int | None = Field(default=None, foreign_key="referrer.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    conversations: int = 0
    questions: int = 0
    bookings: int = 0


def new_code() -> str:
    """12 URL-safe characters (72 random bits) that never start with "-": a volunteer types
    `lotse links revoke CODE`, and a leading dash would read as an option."""
    while True:
        code = secrets.token_urlsafe(9)
        if not code.startswith("-"):
            return code


def resolve_code(session: Session, payload: str | None, now: datetime | None = None) -> LinkCode | None:
    """A usable code for the payload, or None (unknown, garbled, revoked or expired)."""
    if not payload or not PAYLOAD_PATTERN.match(payload):
        return None
    code = session.exec(select(LinkCode).where(LinkCode.code == payload)).first()
    if code is None or code.revoked_at is not None:
        return None
    if code.expires_at is not None and code.expires_at <= (now or utcnow()):
        return None
    return code
