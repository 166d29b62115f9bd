"""Dashboard pages without a browser: roles, CSRF, the handoff reply box, the PDF link."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.booking import Booking, BookingStatus
from core.crypto import FieldCipher
from core.handoff import HandoffRequest
from core.staff import create_user
from tests.api.conftest import OTHER_TEAM, PASSWORD, TestClient, make_intake, team, user_for

pytestmark = pytest.mark.db


def _login(client: TestClient, email: str) -> None:
    assert client.post("/dashboard/login", data={"email": email, "password": PASSWORD}, follow_redirects=False).status_code == 303


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def test_team_user_changes_status_only_with_csrf(client: TestClient, db: Session, cipher: FieldCipher, api_engine: Engine) -> None:
    made = make_intake(db, cipher)
    _login(client, user_for(db))
    page = client.get(f"/dashboard/intakes/{made.booking.id}")
    assert "أحتاج مساعدة" in page.text and 'dir="rtl"' in page.text and "PDF herunterladen" in page.text
    forged = client.post(f"/dashboard/intakes/{made.booking.id}/status", data={"action": "acknowledge", "csrf": "0" * 32})
    assert forged.status_code == 403
    done = client.post(f"/dashboard/intakes/{made.booking.id}/status", data={"action": "complete", "csrf": _csrf(page.text)})
    assert "nicht möglich" in done.text  # invalid transition shown in German, nothing changed
    client.post(f"/dashboard/intakes/{made.booking.id}/status", data={"action": "acknowledge", "csrf": _csrf(page.text)})
    with Session(api_engine) as session:
        assert session.get(Booking, made.booking.id).status is BookingStatus.ACKNOWLEDGED  # type: ignore[union-attr]
    pdf = client.get(re.search(r'href="(/dashboard/consents/\d+\.pdf)"', page.text).group(1))  # type: ignore[union-attr]
    assert pdf.content.startswith(b"%PDF")


def test_municipality_user_reads_its_teams_but_cannot_act(client: TestClient, db: Session, cipher: FieldCipher) -> None:
    hamm = make_intake(db, cipher, slug=OTHER_TEAM, name="Herr A.")
    dortmund = make_intake(db, cipher, index=1, name="Frau B.")
    create_user(db, "kommune@example.org", PASSWORD, municipality_id=team(db, OTHER_TEAM).municipality_id)
    db.commit()
    _login(client, "kommune@example.org")
    listing = client.get("/dashboard/intakes?zeitraum=alle").text
    assert "Herr A." in listing and "Frau B." not in listing
    detail = client.get(f"/dashboard/intakes/{hamm.booking.id}").text
    assert 'name="action"' not in detail
    assert client.get(f"/dashboard/intakes/{dortmund.booking.id}").status_code == 404
    assert client.get("/dashboard/verfuegbarkeit").status_code == 200


def test_handoff_reply_box(client: TestClient, db: Session, cipher: FieldCipher, api_engine: Engine) -> None:
    made = make_intake(db, cipher)
    handoff = HandoffRequest(person_id=made.person_id, team_id=team(db).id, language="ar", question_enc=cipher.encrypt("سؤال"))  # type: ignore[arg-type]
    db.add(handoff)
    db.commit()
    _login(client, user_for(db))
    page = client.get("/dashboard/anfragen")
    assert "سؤال" in page.text
    client.post(f"/dashboard/anfragen/{handoff.id}/antwort", data={"csrf": _csrf(page.text), "text": "Bitte kommen Sie vorbei."})
    with Session(api_engine) as session:
        stored = session.exec(select(HandoffRequest)).one()
        assert cipher.decrypt(stored.reply_enc) == "Bitte kommen Sie vorbei."
