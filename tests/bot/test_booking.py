"""Booking a first counselling appointment end to end, with the guarantees around it."""

from __future__ import annotations

import threading
from datetime import time, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import text
from sqlmodel import Session, select

from bot.notices import deliver_due
from core.availability import WeeklyHours
from core.booking import Booking, BookingStatus, WaitlistEntry, WaitlistStatus, free_slots
from core.clock import utcnow
from core.db import transaction
from core.errors import SlotTaken
from core.intake import create_intake, expire_holds, new_reference
from core.language import CURATED
from core.municipality import team_by_slug
from core.outbox import OutboxKind, OutboxMessage
from core.person import Channel, Person
from core.retention import purge
from tests.bot.driver import Chat

pytestmark = pytest.mark.db


def book(chat: Chat, name: str | None = "Amal", words: str | None = "Ich brauche Hilfe mit dem Jobcenter") -> None:
    fill_intake(chat, name, words)
    chat.press(chat.first_action("book:slot:"))


def fill_intake(chat: Chat, name: str | None, words: str | None) -> None:
    """Routing answers, consent and the minimal data, up to the slot choice."""
    chat.press("book")
    chat.press("book:go")
    while any(a.startswith("book:answer:") for a in chat.actions()):
        chat.press(chat.first_action("book:answer:"))
    chat.press("consent:yes")
    if "book:details" in chat.actions():
        chat.press("book:details")
    if name:
        chat.say(name)
    else:
        chat.press("book:skip_name")
    chat.press("book:skip_phone")
    chat.press(chat.first_action("book:interpreter:"))
    if words:
        chat.say(words)
    else:
        chat.press("book:skip_words")
    chat.press("book:children:no")


@pytest.mark.parametrize("language", CURATED)
def test_booking_in_each_language_ends_with_a_confirmation_and_a_valid_ics(lotse, language: str) -> None:  # type: ignore[no-untyped-def]
    chat = Chat(lotse.dialogue)
    chat.ready("koeln", language)
    book(chat)
    confirmation = chat.last[-1]
    assert confirmation.title == lotse.services.strings.get(language, "booking.confirmed_title")
    assert confirmation.attachment is not None and confirmation.attachment.mime_type == "text/calendar"
    calendar = Calendar.from_ical(confirmation.attachment.data)
    event = next(iter(calendar.walk("VEVENT")))
    assert event.walk("VALARM"), "the calendar entry has an alarm"
    with Session(lotse.db) as session:
        booking = session.exec(select(Booking)).one()
        assert booking.status == BookingStatus.REQUESTED and booking.language == language
        assert event.decoded("dtstart") == booking.starts_at
        assert lotse.services.cipher.decrypt(booking.display_name_enc) == "Amal"
        kinds = {m.kind for m in session.exec(select(OutboxMessage))}
        assert {OutboxKind.REMINDER, OutboxKind.WEBHOOK} <= kinds


def test_routing_questions_then_the_team_is_named_before_consent(lotse) -> None:  # type: ignore[no-untyped-def]
    chat = Chat(lotse.dialogue)
    chat.ready("moers", "en")
    chat.press("book")
    chat.press("book:go")
    chat.press("book:answer:household=family")
    chat.press("book:answer:residence_status=asylum_procedure")
    chat.press("book:answer:age_band=18_27")
    assert "Jugendmigrationsdienst" in chat.text()
    assert "consent:yes" in chat.actions() and "consent:no" in chat.actions()
    chat.press("consent:binding")
    assert "Ausländerbehörde" in chat.text()
    with Session(lotse.db) as session:
        assert session.exec(select(Person)).one().consented_at is None


def test_no_consent_means_no_booking_but_the_public_contact(lotse) -> None:  # type: ignore[no-untyped-def]
    chat = Chat(lotse.dialogue)
    chat.ready("koeln", "ar")
    chat.press("book")
    chat.press("book:go")
    chat.press("consent:no")
    assert "KOKIR" in chat.text()
    with Session(lotse.db) as session:
        assert session.exec(select(Booking)).all() == []
        assert session.exec(select(Person)).one().consented_at is None


def test_status_cancel_and_reschedule_from_the_chat(lotse) -> None:  # type: ignore[no-untyped-def]
    chat = Chat(lotse.dialogue)
    chat.ready("hamm", "de")
    book(chat)
    chat.say("wann ist mein termin?")
    assert "appointment:cancel" in chat.actions()
    chat.press("appointment:reschedule")
    chat.press(chat.first_action("book:slot:"))
    with Session(lotse.db) as session:
        statuses = sorted(b.status for b in session.exec(select(Booking)))
    assert statuses == [BookingStatus.CANCELLED, BookingStatus.REQUESTED]
    chat.command("menu")
    chat.press_any("appointment:cancel")
    chat.press(chat.first_action("book:cancel:"))
    with Session(lotse.db) as session:
        assert all(b.status == BookingStatus.CANCELLED for b in session.exec(select(Booking)))


def _booking(team_id: int, starts_at, person_id=None) -> Booking:  # type: ignore[no-untyped-def]
    return Booking(reference=new_reference(), person_id=person_id, team_id=team_id, starts_at=starts_at,
                   ends_at=starts_at + timedelta(minutes=45), language="de")


def test_concurrent_requests_for_one_slot_yield_exactly_one_booking(lotse) -> None:  # type: ignore[no-untyped-def]
    with Session(lotse.db) as session:
        team = team_by_slug(session, "koeln-kokir")
        slot = free_slots(session, team)[0]
        team_id = team.id
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def attempt() -> None:
        barrier.wait()
        try:
            with transaction(lotse.db) as session:
                create_intake(session, _booking(team_id, slot))
            outcomes.append("booked")
        except SlotTaken:
            outcomes.append("taken")

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["booked"] + ["taken"] * 7
    with Session(lotse.db) as session:
        assert len(session.exec(select(Booking).where(Booking.starts_at == slot)).all()) == 1


def test_a_reminder_claimed_by_a_crashed_worker_is_sent_exactly_once(lotse) -> None:  # type: ignore[no-untyped-def]
    import asyncio
    import subprocess
    import sys

    chat = Chat(lotse.dialogue, channel=Channel.TELEGRAM, external_id="424242")
    chat.ready("koeln", "uk")
    book(chat)
    with transaction(lotse.db) as session:
        session.execute(text("UPDATE outbox_message SET due_at = :now WHERE kind = 'reminder'"), {"now": utcnow() - timedelta(minutes=1)})
    # A worker process claims the due reminders and is killed before sending.
    script = (
        "import os, signal\n"
        "import core.tables  # noqa: F401\n"
        "from core.db import create_database_engine\n"
        "from core.outbox import claim_due, OutboxKind\n"
        "from core.db import transaction\n"
        f"engine = create_database_engine({lotse.db.url.render_as_string(hide_password=False)!r})\n"
        "with transaction(engine) as s:\n"
        "    rows = claim_due(s, (OutboxKind.REMINDER,))\n"
        "    assert rows\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert result.returncode == -9
    sent: list[str] = []

    async def fake_send(address: str, replies) -> None:  # type: ignore[no-untyped-def]
        assert address == "424242"
        sent.extend(r.text for r in replies)

    services = lotse.services
    assert asyncio.run(deliver_due(services.db, services.cipher, services.strings, fake_send)) == 0, "claim still leased"
    with transaction(lotse.db) as session:  # the lease runs out (time passes)
        session.execute(text("UPDATE outbox_message SET claimed_at = :old WHERE kind = 'reminder'"), {"old": utcnow() - timedelta(hours=1)})
    asyncio.run(deliver_due(services.db, services.cipher, services.strings, fake_send))
    asyncio.run(deliver_due(services.db, services.cipher, services.strings, fake_send))
    assert len(sent) == 2, "the 24 h and the 2 h reminder, each once"
    assert all("KOKIR" in message for message in sent)


def test_waitlist_offer_hold_and_expiry(lotse) -> None:  # type: ignore[no-untyped-def]
    with transaction(lotse.db) as session:
        team = team_by_slug(session, "dortmund-kim")
        session.execute(text("DELETE FROM weekly_hours WHERE team_id = :t"), {"t": team.id})
        team.slot_minutes, team.buffer_minutes, team.min_notice_hours, team.horizon_days = 45, 15, 0, 4
        day = (utcnow() + timedelta(days=3)).weekday()
        session.add(WeeklyHours(team_id=team.id, weekday=day, start_time=time(10), end_time=time(10, 45)))
    first, second, third = (Chat(lotse.dialogue) for _ in range(3))
    for chat in (first, second, third):
        chat.ready("dortmund", "fa")
    book(first)
    for chat in (second, third):
        fill_intake(chat, name=None, words=None)
        chat.press("book:waitlist")
    first.command("menu")
    first.press_any("appointment:cancel")
    first.press(first.first_action("book:cancel:"))
    with Session(lotse.db) as session:
        held = session.exec(select(Booking).where(Booking.status == BookingStatus.HELD)).one()
        offers = session.exec(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.WAITLIST_OFFER)).all()
        assert len(offers) == 1 and offers[0].booking_id == held.id
        waiting = session.exec(select(WaitlistEntry).where(WaitlistEntry.status == WaitlistStatus.WAITING)).all()
        assert len(waiting) == 1
    with transaction(lotse.db) as session:
        assert expire_holds(session, now=utcnow() + timedelta(days=1)) == 1
    with Session(lotse.db) as session:
        held_again = session.exec(select(Booking).where(Booking.status == BookingStatus.HELD)).one()
        assert held_again.id != held.id and held_again.person_id == waiting[0].person_id
    third.command("menu")
    third.press_any("appointment:status")
    third.press(third.first_action("book:accept:"))
    with Session(lotse.db) as session:
        assert session.get(Booking, held_again.id).status == BookingStatus.REQUESTED  # type: ignore[union-attr]


def test_delete_erases_every_trace_of_the_person(lotse) -> None:  # type: ignore[no-untyped-def]
    chat = Chat(lotse.dialogue)
    chat.ready("koeln", "ru")
    book(chat, name="Oksana Zhuravel", words="Mein Aufenthaltstitel läuft ab, Nummer 0176-555-0199")
    chat.press_any("handoff")
    chat.say("Bitte rufen Sie Oksana Zhuravel zurück")
    with Session(lotse.db) as session:
        pseudonym = session.exec(select(Person)).one().pseudonym
    chat.command("delete")
    chat.press("privacy:delete")
    with Session(lotse.db) as session:
        assert session.exec(select(Person)).all() == []
        booking = session.exec(select(Booking)).one()
        assert booking.status == BookingStatus.CANCELLED and booking.display_name_enc is None
        cancelled = session.exec(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.WEBHOOK)).all()
        assert any(m.payload.get("event") == "intake.cancelled" for m in cancelled)
        connection = session.connection()
        tables = [row[0] for row in connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type='table'" if lotse.db.dialect.name == "sqlite"
            else "SELECT tablename FROM pg_tables WHERE schemaname='public'")]
        dump = "".join(repr(list(connection.exec_driver_sql(f'SELECT * FROM "{t}"'))) for t in tables)
    for secret in ("Oksana", "Zhuravel", "0176", pseudonym, chat.external_id):
        assert secret not in dump, secret
    with Session(lotse.db) as session:
        for row in session.exec(select(Booking)):
            assert row.own_words_enc is None and row.phone_enc is None


def test_retention_purges_personal_data_of_closed_intakes(lotse) -> None:  # type: ignore[no-untyped-def]
    chat = Chat(lotse.dialogue)
    chat.ready("koeln", "en")
    book(chat)
    chat.command("menu")
    chat.press_any("appointment:cancel")
    chat.press(chat.first_action("book:cancel:"))
    with transaction(lotse.db) as session:
        counts = purge(session, 30, 90, now=utcnow() + timedelta(days=91))
    assert counts["bookings"] == 1
    with Session(lotse.db) as session:
        booking = session.exec(select(Booking)).one()
        assert booking.display_name_enc is None and booking.own_words_enc is None and booking.person_id is None
