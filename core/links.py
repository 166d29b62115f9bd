"""Volunteers' links: create, revoke and count deep-link codes without any personal data."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal
from urllib.parse import urlencode

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.clock import utcnow
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.intents import topic_names
from core.language import normalise_tag
from core.municipality import Municipality, MunicipalityKind, municipality_by_slug
from core.referral import PAYLOAD_PATTERN, LinkCode, Referrer, new_code
from core.settings import Settings

BOOKING_FLOW = "book"
SMALL_COUNT = 5  # counts below this are shown as "<5": never report groups small enough to identify
KEY_PREFIX = "lrk_"
MAX_EXPIRY_DAYS = 3650

Count = int | Literal["<5"]


class LinkStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class LinkTargets:
    """Where a code leads: None for a channel the municipality has switched off."""

    telegram: str | None
    webchat: str | None

    @property
    def preferred(self) -> str:
        """The link a QR code carries: Telegram when available, else the web chat."""
        target = self.telegram or self.webchat
        if target is None:
            raise InvalidInput("both channels are switched off for this municipality")
        return target


@dataclass(frozen=True)
class CodeCounts:
    code: str
    municipality: str | None
    language: str | None
    topic: str | None
    status: LinkStatus
    created_at: datetime
    expires_at: datetime | None
    conversations: Count
    questions: Count
    bookings: Count


def link_topics() -> tuple[str, ...]:
    """What a link may open: a topic answer, or the booking flow."""
    return (BOOKING_FLOW, *topic_names())


def shown_count(value: int) -> Count:
    return "<5" if value < SMALL_COUNT else value


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def register_referrer(session: Session, name: str) -> tuple[Referrer, str]:
    """A referrer (a name or organisation, nothing else) and its access key, shown once, never stored."""
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > 120:
        raise InvalidInput("a name or organisation of 1 to 120 characters is needed")
    key = KEY_PREFIX + secrets.token_urlsafe(24)
    referrer = Referrer(name=cleaned, access_key_hash=_hash(key))
    session.add(referrer)
    session.flush()
    return referrer, key


def authenticate_referrer(session: Session, key: str | None) -> Referrer:
    if not key or not key.startswith(KEY_PREFIX) or len(key) > 100:
        raise PermissionDenied("missing or malformed referrer key")
    digest = _hash(key)
    referrer = session.exec(select(Referrer).where(Referrer.access_key_hash == digest)).first()
    if referrer is None or not hmac.compare_digest(referrer.access_key_hash, digest):
        raise PermissionDenied("unknown referrer key")
    return referrer


def linkable_municipalities(session: Session) -> list[Municipality]:
    """Places a link can preset: everything but the state, with at least one channel on."""
    rows = session.exec(
        select(Municipality)
        .where(Municipality.kind != MunicipalityKind.STATE)
        .order_by(col(Municipality.name))
    ).all()
    return [m for m in rows if m.telegram_enabled or m.webchat_enabled]


def create_code(
    session: Session,
    municipality: str,
    language: str,
    topic: str | None = None,
    referrer: Referrer | None = None,
    expires_days: int | None = None,
    now: datetime | None = None,
) -> LinkCode:
    """A new opaque code for a municipality (slug), a language and optionally a topic or flow."""
    place = municipality_by_slug(session, municipality)
    if not (place.telegram_enabled or place.webchat_enabled):
        raise InvalidInput(f"{municipality!r} has both channels switched off")
    tag = normalise_tag(language)
    if tag is None:
        raise InvalidInput(f"language {language!r} is not served")
    topic = topic or None
    if topic is not None and topic not in link_topics():
        raise InvalidInput(f"unknown topic {topic!r}")
    expires_at = None
    if expires_days is not None:
        if not 1 <= expires_days <= MAX_EXPIRY_DAYS:
            raise InvalidInput(f"expiry must be between 1 and {MAX_EXPIRY_DAYS} days")
        expires_at = (now or utcnow()) + timedelta(days=expires_days)
    for _ in range(5):
        code = new_code()
        if session.exec(select(LinkCode.id).where(LinkCode.code == code)).first() is None:
            break
    else:  # pragma: no cover - 72 random bits
        raise InvalidInput("could not draw a unique code")
    link = LinkCode(
        code=code,
        municipality_id=place.id,
        language=tag,
        topic=topic,
        referrer_id=referrer.id if referrer else None,
        expires_at=expires_at,
    )
    session.add(link)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent writer drew the same code
        raise InvalidInput("code collision, try again") from exc
    return link


def find_code(session: Session, code: str) -> LinkCode:
    """A code by its text, whatever its status (the bot only ever uses resolve_code)."""
    if not PAYLOAD_PATTERN.match(code):
        raise NotFound("link code")
    found = session.exec(select(LinkCode).where(LinkCode.code == code)).first()
    if found is None:
        raise NotFound("link code")
    return found


def status_of(link: LinkCode, now: datetime | None = None) -> LinkStatus:
    if link.revoked_at is not None:
        return LinkStatus.REVOKED
    if link.expires_at is not None and link.expires_at <= (now or utcnow()):
        return LinkStatus.EXPIRED
    return LinkStatus.ACTIVE


def revoke(
    session: Session, code: str, referrer: Referrer | None = None, now: datetime | None = None
) -> LinkCode:
    """Revoke a code; with a referrer, only one of their own (others look unknown). Idempotent."""
    link = find_code(session, code)
    if referrer is not None and link.referrer_id != referrer.id:
        raise NotFound("link code")
    if link.revoked_at is None:
        link.revoked_at = now or utcnow()
        session.add(link)
        session.flush()
    return link


def counts_for_referrer(
    session: Session, referrer: Referrer, now: datetime | None = None
) -> list[CodeCounts]:
    """The referrer's own codes, newest first, with small counts hidden as "<5"."""
    rows = session.exec(
        select(LinkCode, Municipality)
        .join(Municipality, col(LinkCode.municipality_id) == Municipality.id, isouter=True)
        .where(LinkCode.referrer_id == referrer.id)
        .order_by(col(LinkCode.created_at).desc(), col(LinkCode.id).desc())
    ).all()
    return [
        CodeCounts(
            code=link.code,
            municipality=place.slug if place else None,
            language=link.language,
            topic=link.topic,
            status=status_of(link, now),
            created_at=link.created_at,
            expires_at=link.expires_at,
            conversations=shown_count(link.conversations),
            questions=shown_count(link.questions),
            bookings=shown_count(link.bookings),
        )
        for link, place in rows
    ]


def link_targets(settings: Settings, link: LinkCode, place: Municipality) -> LinkTargets:
    """The Telegram deep link (payload = the code) and the web-chat link for a code."""
    telegram = f"https://t.me/{settings.telegram_bot_username}?start={link.code}"
    query = urlencode({"lang": link.language or "", "ref": link.code})
    webchat = f"{settings.public_url.rstrip('/')}/chat/{place.slug}?{query}"
    return LinkTargets(
        telegram=telegram if place.telegram_enabled else None,
        webchat=webchat if place.webchat_enabled else None,
    )


def place_of(session: Session, link: LinkCode) -> Municipality:
    place = session.get(Municipality, link.municipality_id) if link.municipality_id else None
    if place is None:
        raise NotFound("municipality of the link code")
    return place
