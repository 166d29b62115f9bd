"""Exports: an ICS feed per team for calendar clients (token in the URL) and a CSV of intakes."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event
from sqlmodel import Session, col, select

from api.auth import CALENDAR_SCOPE, Principal
from api.intake_views import IntakeSummary
from core.audit import audit
from core.booking import Booking, BookingStatus
from core.clock import utcnow
from core.credential import ApiCredential, authenticate, issue_credential
from core.errors import NotFound, PermissionDenied
from core.language import NATIVE_NAMES
from core.municipality import Team

FEED_STATUSES = (BookingStatus.REQUESTED, BookingStatus.ACKNOWLEDGED, BookingStatus.CONFIRMED,
                 BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
STATUS_DE = {
    "requested": "neu", "acknowledged": "gesehen", "confirmed": "bestätigt", "declined": "abgelehnt",
    "cancelled": "abgesagt", "completed": "abgeschlossen", "no_show": "nicht erschienen",
    "held": "reserviert", "expired": "abgelaufen",
}


def rotate_feed_token(session: Session, principal: Principal, team: Team) -> str:
    """A new feed token for the team; earlier feed tokens stop working."""
    assert team.id is not None
    for old in session.exec(select(ApiCredential).where(ApiCredential.team_id == team.id)).all():
        if old.scopes == [CALENDAR_SCOPE] and old.revoked_at is None:
            old.revoked_at = utcnow()
            session.add(old)
    _, token = issue_credential(session, f"Kalender {team.slug}", [CALENDAR_SCOPE], team_id=team.id)
    audit(session, principal.actor, "calendar.token_rotated", "team", team.id)
    return token


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def team_feed(session: Session, team_slug: str, token: str, public_url: str) -> bytes:
    """The team's appointments without names: calendars sync to phones and clouds."""
    try:
        credential = authenticate(session, token)
    except PermissionDenied as exc:
        raise NotFound("calendar feed") from exc
    team = session.exec(select(Team).where(Team.slug == team_slug)).first()
    if team is None or CALENDAR_SCOPE not in credential.scopes or credential.team_id != team.id:
        raise NotFound("calendar feed")
    session.add(credential)
    since = utcnow() - timedelta(days=30)
    bookings = session.exec(
        select(Booking).where(Booking.team_id == team.id, col(Booking.status).in_(FEED_STATUSES), Booking.starts_at >= since)
        .order_by(col(Booking.starts_at))
    ).all()
    calendar = Calendar()
    calendar.add("prodid", "-//Lotse//team feed//DE")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Lotse – {team.name}")
    for booking in bookings:
        event = Event()
        event.add("uid", f"{booking.reference}@lotse")
        event.add("dtstamp", _utc(booking.updated_at))
        event.add("dtstart", _utc(booking.starts_at))
        event.add("dtend", _utc(booking.ends_at))
        interpreter = (
            f", Dolmetschung {NATIVE_NAMES.get(booking.interpreter_language, booking.interpreter_language)}"
            if booking.interpreter_language else ""
        )
        event.add("summary", f"Erstgespräch {booking.reference} ({booking.language}{interpreter})")
        event.add("description", f"Status: {STATUS_DE.get(str(booking.status), str(booking.status))}\n"
                                 f"{public_url.rstrip('/')}/dashboard/intakes/{booking.id}")
        event.add("status", "CONFIRMED" if booking.status is BookingStatus.CONFIRMED else "TENTATIVE")
        calendar.add_component(event)
    return bytes(calendar.to_ical())


CSV_COLUMNS = ("id", "reference", "team", "status", "starts_at", "ends_at", "language",
               "interpreter_language", "topic", "display_name", "source", "created_at")


def intakes_csv(rows: list[IntakeSummary]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        data = row.model_dump()
        writer.writerow([_csv_safe(data[c]) for c in CSV_COLUMNS])
    return buffer.getvalue()


def _csv_safe(value: object) -> str:
    """No formula injection in spreadsheets: a leading = + - @ is quoted with an apostrophe."""
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
