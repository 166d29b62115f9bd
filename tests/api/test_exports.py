"""The team's ICS feed (token in the URL, no names) and the CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from icalendar import Calendar
from sqlmodel import Session

from core.crypto import FieldCipher
from tests.api.conftest import OTHER_TEAM, TestClient, auth, make_intake, token_for

pytestmark = pytest.mark.db


def test_ics_feed_needs_its_token_and_parses(client: TestClient, db: Session, cipher: FieldCipher) -> None:
    made = make_intake(db, cipher)
    token = token_for(db)
    created = client.post("/api/v1/teams/dortmund-kim/calendar-token", headers=auth(token))
    assert created.status_code == 201
    url = created.json()["url"].removeprefix("http://lotse.test")
    feed = client.get(url)
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(feed.content)
    events = list(calendar.walk("VEVENT"))
    assert [str(e["uid"]) for e in events] == [f"{made.booking.reference}@lotse"]
    assert "Dolmetschung" in str(events[0]["summary"])
    assert "Hamed" not in feed.text and "1234567" not in feed.text
    feed_token = url.split("token=")[1]
    assert client.get("/api/v1/teams/dortmund-kim/calendar.ics?token=lotse_x_wrongwrong").status_code == 404
    assert client.get("/api/v1/teams/dortmund-kim/calendar.ics").status_code == 422
    assert client.get(f"/api/v1/teams/{OTHER_TEAM}/calendar.ics?token={feed_token}").status_code == 404
    assert client.get("/api/v1/intakes", headers=auth(feed_token)).status_code == 401  # not an API token
    rotated = client.post("/api/v1/teams/dortmund-kim/calendar-token", headers=auth(token)).json()["url"]
    assert client.get(url).status_code == 404
    assert client.get(rotated.removeprefix("http://lotse.test")).status_code == 200


def test_csv_export(client: TestClient, db: Session, cipher: FieldCipher) -> None:
    make_intake(db, cipher, index=0)
    make_intake(db, cipher, index=1, language="uk", name="=HYPERLINK(\"http://evil\")")
    token = token_for(db)
    response = client.get("/api/v1/intakes.csv", headers=auth(token))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["language"] for r in rows] == ["ar", "uk"]
    assert rows[0]["display_name"] == "Hamed" and rows[0]["interpreter_language"] == "ar"
    assert rows[1]["display_name"].startswith("'=")  # no formula injection in spreadsheets
    only_uk = list(csv.DictReader(io.StringIO(client.get("/api/v1/intakes.csv?language=uk", headers=auth(token)).text)))
    assert len(only_uk) == 1
