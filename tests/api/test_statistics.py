"""Statistics are aggregates only: no count under 5 is ever shown, in JSON or on the page."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from core.crypto import FieldCipher
from core.stats import count_question
from tests.api.conftest import PASSWORD, TestClient, auth, make_intake, team, token_for, user_for

pytestmark = pytest.mark.db


def test_small_counts_are_suppressed(client: TestClient, db: Session, cipher: FieldCipher) -> None:
    for index in range(5):
        make_intake(db, cipher, language="uk", index=index, interpreter=False)
    for index in range(5, 9):
        make_intake(db, cipher, language="ar", index=index)
    municipality = team(db).municipality_id
    week = date(2025, 3, 3)
    for _ in range(7):
        count_question(db, municipality, "work", "ar", week, answered=True)
    for _ in range(2):
        count_question(db, municipality, "housing", "fa", week, answered=False)
    db.commit()
    token = token_for(db, scopes=["intakes:read"], municipality=True)
    stats = client.get("/api/v1/statistics", headers=auth(token)).json()
    languages = {c["key"]: c for c in stats["intake_languages"]}
    assert languages["uk"]["count"] == 5 and not languages["uk"]["suppressed"]
    assert languages["ar"]["count"] is None and languages["ar"]["suppressed"]
    assert stats["interpreter_languages"] == [{"key": "ar", "count": None, "suppressed": True}]
    topics = {c["key"].split(" · ")[1]: c["count"] for c in stats["topics_per_municipality"]}
    assert topics == {"work": 7, "housing": None}
    assert [c["count"] for c in stats["unanswered_topics"]] == [None]
    assert stats["hours_first_chat_to_intake_median"]["value"] == pytest.approx(3.0, abs=0.1)
    assert stats["no_show_rate"] == {"value": None, "suppressed": True}
    every_count = [c["count"] for key in ("bookings_per_week", "topics_per_municipality", "unanswered_topics",
                                          "question_languages", "intake_languages", "interpreter_languages")
                   for c in stats[key]]
    assert all(c is None or c >= 5 for c in every_count)


def test_statistics_page_shows_no_small_numbers(client: TestClient, db: Session, cipher: FieldCipher) -> None:
    for index in range(3):
        make_intake(db, cipher, language="fa", index=index)
    email = user_for(db)
    client.post("/dashboard/login", data={"email": email, "password": PASSWORD})
    page = client.get("/dashboard/statistik")
    assert page.status_code == 200
    assert "weniger als 5" in page.text
    assert '<td class="num">3</td>' not in page.text
