"""End to end: a person books in the real dialogue; the team sees it through the API."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.app import include_api
from core.booking import Booking
from core.outbox import OutboxKind, OutboxMessage
from core.settings import Settings
from tests.api.conftest import TestClient, auth, token_for
from tests.bot.driver import Chat
from tests.bot.test_booking import book

pytestmark = pytest.mark.db


def test_booked_in_farsi_seen_by_the_team_with_verified_consent(api_engine: Engine, app_settings: Settings, lotse) -> None:  # type: ignore[no-untyped-def]
    from lotse.app import create_app

    chat = Chat(lotse.dialogue)
    chat.ready("koeln", "fa")
    book(chat, name="Amal", words="می‌خواهم کار کنم")
    with Session(api_engine, expire_on_commit=False) as session:
        booking = session.exec(select(Booking)).one()
        from core.municipality import Team

        slug = session.get(Team, booking.team_id).slug  # type: ignore[union-attr]
        token = token_for(session, slug=slug)
    app = create_app(app_settings, lotse)
    include_api(app)
    client = TestClient(app)
    detail = client.get(f"/api/v1/intakes/{booking.id}", headers=auth(token)).json()
    assert detail["display_name"] == "Amal" and detail["language"] == "fa"
    assert detail["own_words"]["text"] == "می‌خواهم کار کنم"
    [consent] = [c for c in detail["consents"] if c["kind"] == "data_protection"]
    record = client.get(f"/api/v1/consents/{consent['id']}", headers=auth(token)).json()
    assert record["text_verified"] is True, "the text re-rendered for the team is the text the person saw"
    pdf = client.get(f"/api/v1/consents/{consent['id']}.pdf", headers=auth(token))
    text = " ".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).split())
    assert "Verbindlicher Text (Deutsch)" in text and booking.reference in text


def test_a_handoff_in_the_chat_announces_a_webhook_event(lotse) -> None:  # type: ignore[no-untyped-def]
    chat = Chat(lotse.dialogue)
    chat.ready("dortmund", "ar")
    chat.press_any("handoff")
    if "consent:yes" in chat.actions():
        chat.press("consent:yes")
    chat.say("هل يمكنني العمل؟")
    with Session(lotse.db) as session:
        events = session.exec(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.WEBHOOK)).all()
    assert [e.payload["event"] for e in events] == ["handoff.created"]
