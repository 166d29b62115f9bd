"""Availability edited through the API changes the free slots the bot offers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from core.booking import free_slots
from core.clock import utcnow
from core.crypto import FieldCipher
from tests.api.conftest import TestClient, auth, make_intake, team, token_for

pytestmark = pytest.mark.db


def _free(client: TestClient, token: str) -> list[datetime]:
    rows = client.get("/api/v1/teams/dortmund-kim/slots?kind=free", headers=auth(token)).json()
    return [datetime.fromisoformat(r["starts_at"]) for r in rows]


def test_weekly_hours_crud_changes_free_slots(client: TestClient, db: Session) -> None:
    token = token_for(db)
    base = "/api/v1/teams/dortmund-kim"
    assert _free(client, token) == []
    tomorrow = (utcnow() + timedelta(days=2)).astimezone(ZoneInfo("Europe/Berlin"))
    created = client.post(f"{base}/weekly-hours", headers=auth(token),
                          json={"weekday": tomorrow.weekday(), "start_time": "09:00", "end_time": "12:00"})
    assert created.status_code == 201, created.text
    slots = _free(client, token)
    assert slots and all(s.astimezone(ZoneInfo("Europe/Berlin")).weekday() == tomorrow.weekday() for s in slots)
    assert len([s for s in slots if s.astimezone(ZoneInfo("Europe/Berlin")).date() == tomorrow.date()]) == 3  # 45+15 min
    overlap = client.post(f"{base}/weekly-hours", headers=auth(token),
                          json={"weekday": tomorrow.weekday(), "start_time": "11:00", "end_time": "13:00"})
    assert overlap.status_code == 409
    settings = client.get(f"{base}/availability", headers=auth(token)).json()["settings"]
    settings.update(slot_minutes=30, buffer_minutes=0)
    assert client.put(f"{base}/availability", headers=auth(token), json=settings).status_code == 200
    assert len([s for s in _free(client, token) if s.astimezone(ZoneInfo("Europe/Berlin")).date() == tomorrow.date()]) == 6
    closed = client.post(f"{base}/exceptions", headers=auth(token), json={"day": tomorrow.date().isoformat(), "reason": "Fortbildung"})
    assert closed.status_code == 201
    assert not [s for s in _free(client, token) if s.astimezone(ZoneInfo("Europe/Berlin")).date() == tomorrow.date()]
    assert client.delete(f"{base}/exceptions/{closed.json()['id']}", headers=auth(token)).status_code == 204
    assert client.delete(f"{base}/weekly-hours/{created.json()['id']}", headers=auth(token)).status_code == 204
    assert _free(client, token) == []
    assert free_slots(db, team(db)) == []


def test_booked_slots_are_listed_and_not_free(client: TestClient, db: Session, cipher: FieldCipher) -> None:
    made = make_intake(db, cipher)
    token = token_for(db)
    rows = client.get("/api/v1/teams/dortmund-kim/slots", headers=auth(token)).json()
    booked = [r for r in rows if r["booked"]]
    assert [r["intake_id"] for r in booked] == [made.booking.id]
    start = made.booking.starts_at.replace(tzinfo=UTC) if made.booking.starts_at.tzinfo is None else made.booking.starts_at
    assert start not in _free(client, token)


def test_validation_names_the_field(client: TestClient, db: Session) -> None:
    token = token_for(db)
    response = client.post("/api/v1/teams/dortmund-kim/weekly-hours", headers=auth(token),
                           json={"weekday": 9, "start_time": "12:00", "end_time": "09:00"})
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert "weekday" in fields
    reversed_times = client.post("/api/v1/teams/dortmund-kim/weekly-hours", headers=auth(token),
                                 json={"weekday": 1, "start_time": "12:00", "end_time": "09:00"})
    assert reversed_times.status_code == 422 and "end_time" in reversed_times.json()["detail"]
    read_only = token_for(db, scopes=["intakes:read"])
    assert client.post("/api/v1/teams/dortmund-kim/weekly-hours", headers=auth(read_only),
                       json={"weekday": 1, "start_time": "09:00", "end_time": "12:00"}).status_code == 403
