"""Conversations through the real dialogue engine on a real database."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from core.handoff import HandoffRequest
from core.language import CURATED
from core.municipality import municipality_by_slug
from core.person import Conversation, Person, ProcessedUpdate
from core.referral import LinkCode
from tests.bot.driver import Chat

pytestmark = pytest.mark.db

QUESTIONS = {
    "de": "Wie melde ich meine Wohnung an?",
    "en": "how do i register my address",
    "ar": "كيف أسجل عنواني؟",
    "uk": "як зареєструвати адресу, анмельдунг",
    "ru": "как сделать анмельдунг, прописаться по адресу",
    "fa": "چطور آدرسم را ثبت کنم؟ آنملدونگ",
    "tr": "adresimi nasıl kaydettiririm, Anmeldung",
}


def test_first_contact_asks_language_then_place_then_shows_privacy_and_menu(lotse) -> None:  # type: ignore[no-untyped-def]
    chat = Chat(lotse.dialogue)
    chat.start()
    assert {f"lang:{code}" for code in CURATED} <= set(chat.actions())
    chat.press("lang:ar")
    assert any(a.startswith("place:") for a in chat.actions())
    chat.say("Mörs")
    assert "Moers" in chat.text()
    assert any(a.startswith("topic:") for a in chat.actions())
    assert lotse.services.strings.get("ar", "privacy.note") in chat.text()


@pytest.mark.parametrize("language", CURATED)
def test_a_question_in_each_language_gets_the_local_answer_in_that_language(lotse, language: str) -> None:  # type: ignore[no-untyped-def]
    chat = Chat(lotse.dialogue)
    chat.ready("moers", language)
    chat.say(QUESTIONS[language])
    answer = next(r for r in chat.last if r.title)
    assert answer.title == lotse.services.strings.get(language, "intent.registration_address")
    assert answer.language == language
    assert answer.contacts, "local contacts are shown"
    assert "book" in chat.actions() and "handoff" in chat.actions()


def test_unclear_input_offers_candidates_then_the_menu_and_a_person(lotse) -> None:  # type: ignore[no-untyped-def]
    chat = Chat(lotse.dialogue)
    chat.ready("koeln", "en")
    chat.say("what is the best pizza topping")
    chat.say("asdf qwer zxcv")
    assert "handoff" in chat.actions()
    assert any(a.startswith("topic:") for a in chat.actions())


STATES = ["start", "place", "ready", "consent", "book_name", "handoff_question"]


def _reach(chat: Chat, state: str) -> None:
    if state == "start":
        chat.start()
        return
    if state == "place":
        chat.start()
        chat.press("lang:en")
        return
    chat.ready("koeln", "en")
    if state in ("consent", "book_name"):
        chat.press("book")
        chat.press("book:go")
        assert "consent:yes" in chat.actions(), chat.text()
        if state == "book_name":
            chat.press("consent:yes")
            if "book:details" in chat.actions():
                chat.press("book:details")
    if state == "handoff_question":
        chat.press_any("handoff")
        chat.press("consent:yes")


@pytest.mark.parametrize("state", STATES)
def test_emergency_is_answered_first_from_every_state(lotse, state: str) -> None:  # type: ignore[no-untyped-def]
    chat = Chat(lotse.dialogue)
    _reach(chat, state)
    chat.say("my husband is beating the children right now, help")
    first = chat.last[0]
    assert first.urgent
    assert "112" in first.text and "110" in first.text
    assert any(c.phone == "112" for c in first.contacts)


def test_a_replayed_update_changes_nothing_and_gets_the_same_answer_until_delivered(lotse) -> None:  # type: ignore[no-untyped-def]
    from bot.replies import Incoming
    from core.person import Channel, Conversation

    incoming = Incoming(Channel.WEBCHAT, "x" * 40, update_key="same-update", command="start", municipality_hint="hamm", language_hint="de")
    first = lotse.dialogue.handle(incoming)
    assert first
    with Session(lotse.db) as session:
        before = session.exec(select(Conversation)).one().model_dump(exclude={"updated_at"})
    assert len(first) >= 2
    assert lotse.dialogue.handle(incoming) == first  # the process died before sending: same answer
    lotse.dialogue.delivered(incoming, finished=False)
    rest = lotse.dialogue.handle(incoming)
    assert rest == first[1:]  # died after the first reply: the rest
    for index in range(len(rest)):
        lotse.dialogue.delivered(incoming, finished=index + 1 == len(rest))
    assert lotse.dialogue.handle(incoming) == []  # all delivered: a replay sends nothing
    with Session(lotse.db) as session:
        assert len(session.exec(select(ProcessedUpdate)).all()) == 1
        assert session.exec(select(ProcessedUpdate)).one().replies_enc is None
        assert session.exec(select(Conversation)).one().model_dump(exclude={"updated_at"}) == before


def test_questions_and_topics_are_counted_once_each_even_when_replayed(lotse) -> None:  # type: ignore[no-untyped-def]
    """The count goes with the turn's last statement (on PostgreSQL in the same one)."""
    from bot.replies import Incoming
    from core.person import Channel
    from core.stats import TopicCount

    def counts() -> dict[tuple[str, bool], int]:
        with Session(lotse.db) as session:
            return {(row.topic, row.answered): row.count for row in session.exec(select(TopicCount))}

    chat = Chat(lotse.dialogue)
    chat.ready("moers", "en")
    chat.say(QUESTIONS["en"])
    chat.press("topic:bank_account")
    assert counts() == {("registration_address", True): 1, ("bank_account", True): 1}
    replayed = Incoming(Channel.WEBCHAT, chat.external_id, update_key="counted-once", action="topic:housing")
    first = lotse.dialogue.handle(replayed)
    assert lotse.dialogue.handle(replayed) == first
    assert counts()[("housing", True)] == 1


def test_the_kept_copy_of_replies_is_encrypted_and_expires(lotse) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from bot.replies import Incoming
    from core.clock import utcnow
    from core.person import Channel, expire_processed

    incoming = Incoming(Channel.WEBCHAT, "y" * 40, update_key="kept", command="start", municipality_hint="hamm", language_hint="de")
    replies = lotse.dialogue.handle(incoming)
    with Session(lotse.db) as session:
        row = session.exec(select(ProcessedUpdate)).one()
        assert row.replies_enc is not None and replies[0].text[:20].encode() not in row.replies_enc
        counts = expire_processed(session, utcnow() + timedelta(hours=2), timedelta(hours=1), timedelta(days=7))
        session.commit()
        assert counts == {"reply_copies": 1, "update_keys": 0}
    assert lotse.dialogue.handle(incoming) == []
    with Session(lotse.db) as session:
        counts = expire_processed(session, utcnow() + timedelta(days=8), timedelta(hours=1), timedelta(days=7))
        session.commit()
        assert counts["update_keys"] == 1
        assert session.exec(select(ProcessedUpdate)).all() == []


def test_two_engines_on_one_database_share_the_conversation(lotse, app_settings, shared_classifier, shipped_content) -> None:  # type: ignore[no-untyped-def]
    from lotse.app import build

    other = build(app_settings, classifier=shared_classifier, content=shipped_content)
    first = Chat(lotse.dialogue)
    first.start()
    first.press("lang:tr")
    second = Chat(other.dialogue, external_id=first.external_id)
    second.press_any("place:dortmund")
    assert "Dortmund" in second.text()
    assert any(a.startswith("topic:") for a in second.actions())


def test_handoff_stores_the_question_encrypted_after_consent(lotse) -> None:  # type: ignore[no-untyped-def]
    chat = Chat(lotse.dialogue)
    chat.ready("hamm", "en")
    chat.press("handoff")
    assert "consent:yes" in chat.actions()
    with Session(lotse.db) as session:
        assert session.exec(select(HandoffRequest)).all() == []
    chat.press("consent:yes")
    chat.say("My residence permit ends in three weeks and nobody answers my letters")
    with Session(lotse.db) as session:
        request = session.exec(select(HandoffRequest)).one()
        assert b"residence permit" not in (request.question_enc or b"")
        assert lotse.services.cipher.decrypt(request.question_enc).startswith("My residence permit")
    assert "112" in chat.text()


def test_without_consent_no_handoff_is_stored_but_the_public_contact_is_given(lotse) -> None:  # type: ignore[no-untyped-def]
    chat = Chat(lotse.dialogue)
    chat.ready("hamm", "en")
    chat.press("handoff")
    chat.press("consent:no")
    with Session(lotse.db) as session:
        assert session.exec(select(HandoffRequest)).all() == []
        person = session.exec(select(Person)).one()
        assert person.consented_at is None
    assert "Hamm" in chat.text()


def test_a_valid_deep_link_presets_place_language_and_topic(lotse) -> None:  # type: ignore[no-untyped-def]
    with Session(lotse.db) as session:
        code = LinkCode(code="moers-ar-abc123", municipality_id=municipality_by_slug(session, "moers").id, language="ar", topic="integration_course")
        session.add(code)
        session.commit()
    chat = Chat(lotse.dialogue)
    chat.start(payload="moers-ar-abc123")
    assert any(r.title == lotse.services.strings.get("ar", "intent.integration_course") for r in chat.last)
    with Session(lotse.db) as session:
        assert session.exec(select(LinkCode)).one().conversations == 1
        assert session.exec(select(Conversation)).one().referrer_code == "moers-ar-abc123"


@pytest.mark.parametrize("payload", ["unknown-code", "../../etc/passwd", "<script>", "x" * 65, "a b", "%00"])
def test_unknown_or_hostile_payloads_start_normally(lotse, payload: str) -> None:  # type: ignore[no-untyped-def]
    chat = Chat(lotse.dialogue)
    chat.start(payload=payload)
    assert "lang:de" in chat.actions()
    with Session(lotse.db) as session:
        assert session.exec(select(Conversation)).one().referrer_code is None


def test_hostile_and_huge_input_gets_a_clear_answer(lotse) -> None:  # type: ignore[no-untyped-def]
    chat = Chat(lotse.dialogue)
    chat.ready("muenster", "en")
    chat.say("<b>x</a><script>alert(1)</script> & DROP TABLE person;")
    assert chat.last
    chat.say("a" * 5000)
    assert "4000" in chat.text()


def test_nothing_personal_is_stored_before_consent(lotse) -> None:  # type: ignore[no-untyped-def]
    chat = Chat(lotse.dialogue, external_id="secret-chat-id-123456789012345678901")
    chat.ready("koeln", "de")
    chat.say("Mein Name ist Amal und meine Nummer ist 0176 1234567")
    with Session(lotse.db) as session:
        person = session.exec(select(Person)).one()
        assert person.display_name_enc is None and person.phone_enc is None and person.consented_at is None
        dump = repr([row for table in ("person", "channel_identity", "conversation") for row in session.connection().exec_driver_sql(f"SELECT * FROM {table}")])
    assert "Amal" not in dump and "1234567" not in dump and "secret-chat-id" not in dump


# ---- how a turn commits -------------------------------------------------------------------
def _statements(lotse):  # type: ignore[no-untyped-def]
    from sqlalchemy import event

    seen: list[str] = []

    def note(_conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()))

    event.listen(lotse.db, "before_cursor_execute", note)
    return seen, lambda: event.remove(lotse.db, "before_cursor_execute", note)


def test_a_question_commits_without_waiting_for_the_disk_but_consent_does(lotse) -> None:  # type: ignore[no-untyped-def]
    """Only the conversation moved: the commit may lag (PostgreSQL); a consent must not."""
    postgres = lotse.db.dialect.name == "postgresql"
    chat = Chat(lotse.dialogue)
    chat.ready("hamm", "en")
    seen, stop = _statements(lotse)
    try:
        chat.say("how do i register my address")
        lagging = [s for s in seen if "set_config" in s]
        assert bool(lagging) == postgres  # with the person's look-up, no extra round trip
        assert not any("synchronous_commit TO ON" in s for s in seen)
        seen.clear()
        chat.press("handoff")
        chat.press("consent:yes")
        assert any("INSERT INTO consent_record" in s for s in seen)
        assert any("synchronous_commit TO ON" in s for s in seen) == postgres
    finally:
        stop()


def test_the_turn_session_tells_what_it_wrote(lotse) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import delete

    from bot.engine import TurnSession
    from core.clock import utcnow
    from core.db import transaction

    chat = Chat(lotse.dialogue)
    chat.ready("hamm", "en")
    with transaction(lotse.db, TurnSession) as session:  # the dialogue moves on: may lag
        conversation = session.exec(select(Conversation)).first()
        assert conversation is not None
        conversation.state = "ready"
        session.add(conversation)
        person = session.get(Person, conversation.person_id)
        assert person is not None
        person.language = "ar"
        session.add(Person(language="en"))  # a first contact: pseudonymous
        assert not session.wrote_what_must_last()
        session.flush()
        assert not session.wrote_what_must_last()
        session.rollback()
    with transaction(lotse.db, TurnSession) as session:  # consent: must last
        person = session.exec(select(Person)).first()
        assert person is not None
        person.consented_at = utcnow()
        session.flush()  # gone from session.dirty, but noted
        assert session.wrote_what_must_last()
        session.rollback()
    with transaction(lotse.db, TurnSession) as session:  # anything personal: must last
        session.add(Person(language="en", phone_enc=b"x"))
        assert session.wrote_what_must_last()
        session.rollback()
    with transaction(lotse.db, TurnSession) as session:  # a deletion: must last
        session.execute(delete(HandoffRequest).where(HandoffRequest.id == -1))
        assert session.wrote_what_must_last()


def test_a_turn_survives_the_database_dropping_its_connections(lotse) -> None:  # type: ignore[no-untyped-def]
    """After a database restart or fail-over the pooled connections are dead; without a ping
    per checkout, the first turn meets one, and handles the update again on a new one."""
    if lotse.db.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (LOTSE_TEST_DATABASE_URL)")
    from sqlalchemy import create_engine, text

    chat = Chat(lotse.dialogue)
    chat.ready("hamm", "en")
    database = lotse.db.url.database
    admin = create_engine(lotse.db.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        killed = connection.execute(
            text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"),
            {"d": database},
        ).scalar_one()
    admin.dispose()
    assert killed >= 1
    replies = chat.say("how do i register my address")
    assert replies and any(r.title for r in replies)


def test_places_come_from_the_cache_and_a_new_one_is_seen(lotse) -> None:  # type: ignore[no-untyped-def]
    from core.municipality import Municipality, MunicipalityKind

    cache = lotse.services.municipalities
    with Session(lotse.db) as session:
        hamm = cache.by_slug(session, "hamm")
        assert hamm is not None and hamm.name == "Hamm"
        names = [m.name for m in cache.choosable(session)]
        assert names == sorted(names) and "Hamm" in names
        assert all(m.kind not in (MunicipalityKind.STATE, MunicipalityKind.TOWN) for m in cache.choosable(session))
        added = Municipality(ags="05999999", slug="testhausen", name="Testhausen", kind=MunicipalityKind.KREISFREIE_STADT)
        session.add(added)
        session.commit()
        assert cache.get(session, added.id) is not None  # an id newer than the snapshot: read again
        assert cache.by_slug(session, "testhausen") is not None
        assert cache.by_slug(session, "nowhere") is None
