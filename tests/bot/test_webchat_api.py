"""The web chat's JSON API and page over real HTTP, on one service per module."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
from sqlmodel import Session, select

from bot.notices import deliver_due
from core.clock import utcnow
from core.handoff import HandoffRequest
from core.municipality import Municipality
from core.outbox import OutboxKind, enqueue
from core.person import Channel, ChannelIdentity
from tests.bot.conftest import LiveServer

pytestmark = pytest.mark.db

QUESTIONS = {
    "de": "Wie melde ich meine Wohnung in Moers an?",
    "en": "How do I register my address in Moers?",
    "ar": "كيف أسجل عنواني في موير؟",
    "uk": "Як зареєструвати свою адресу в Моерсі?",
    "ru": "Как зарегистрировать мой адрес в Мёрсе?",
    "fa": "چطور آدرسم را در مورس ثبت کنم؟",
    "tr": "Moers'te adresimi nasıl kaydettiririm?",
}
PAGE_BUDGET = 100 * 1024


@pytest.fixture(scope="module")
def http(web_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=web_server.url, timeout=30) as client:
        yield client


class WebChat:
    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        response = http.post("/api/chat/session")
        assert response.status_code == 200
        self.token: str = response.json()["token"]

    def event(self, kind: str, event_id: str | None = None, **fields: Any) -> httpx.Response:
        body = {"token": self.token, "event_id": event_id or secrets.token_hex(8), "kind": kind, **fields}
        return self.http.post("/api/chat/events", json=body)

    def replies(self, kind: str, **fields: Any) -> list[dict[str, Any]]:
        response = self.event(kind, **fields)
        assert response.status_code == 200, response.text
        return response.json()["replies"]  # type: ignore[no-any-return]


def actions(replies: list[dict[str, Any]]) -> list[str]:
    return [b["action"] for r in replies for row in r["buttons"] for b in row]


def test_a_session_is_a_new_random_token(http: httpx.Client) -> None:
    tokens = {http.post("/api/chat/session").json()["token"] for _ in range(3)}
    assert len(tokens) == 3
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32,64}", t) for t in tokens)


@pytest.mark.parametrize("language", list(QUESTIONS))
def test_a_question_in_each_language_gets_the_local_answer(http: httpx.Client, language: str) -> None:
    chat = WebChat(http)
    welcome = chat.replies("start", municipality="moers", language=language)
    assert not any(a.startswith("lang:") for a in actions(welcome)), "the language was preset"
    assert "Moers" in (welcome[0]["title"] or "")
    assert "topic:registration_address" in actions(welcome)
    answer = chat.replies("text", text=QUESTIONS[language], municipality="moers", language=language)
    topical = [r for r in answer if r["contacts"]]
    assert topical, [r["text"][:80] for r in answer]
    reply = topical[0]
    assert reply["language"] == language
    assert reply["dir"] == ("rtl" if language in ("ar", "fa") else "ltr")
    assert any("Moers" in c["name"] for c in reply["contacts"])
    assert "helpful:yes:registration_address" in actions(answer)


def test_a_replayed_event_id_gets_the_same_answer_and_changes_nothing(http: httpx.Client) -> None:
    """A browser that lost the response (network, a restarted server) sends the event again."""
    chat = WebChat(http)
    chat.replies("start", municipality="moers", language="en")
    first = chat.event("action", event_id="same-event-1", action="menu")
    again = chat.event("action", event_id="same-event-1", action="menu")
    assert first.status_code == again.status_code == 200
    assert first.json()["replies"]
    assert again.json()["replies"] == first.json()["replies"]
    # a replayed question is not counted twice, nor answered anew with other state
    question = chat.event("text", event_id="same-event-2", text=QUESTIONS["en"])
    replay = chat.event("text", event_id="same-event-2", text="something else entirely")
    assert replay.json()["replies"] == question.json()["replies"]


def test_tokens_sharing_a_prefix_do_not_share_event_ids(http: httpx.Client) -> None:
    prefix = secrets.token_urlsafe(12)[:16]
    for suffix in ("A" * 24, "B" * 24):
        body = {"token": prefix + suffix, "event_id": "first", "kind": "start", "municipality": "moers", "language": "de"}
        response = http.post("/api/chat/events", json=body)
        assert response.status_code == 200
        assert response.json()["replies"], "the second browser's first event was taken for a replay"


@pytest.mark.parametrize(
    ("field", "value"),
    [("token", "short"), ("token", "x" * 31 + "!"), ("token", "y" * 65), ("event_id", "has space"),
     ("event_id", ""), ("kind", "shell"), ("command", "DROP TABLE"), ("municipality", "../moers"),
     ("text", "a" * 4001), ("action", "a" * 201), ("ref", "r" * 65), ("language", "x" * 17)],
)
def test_invalid_fields_are_refused_with_422_naming_the_field(http: httpx.Client, field: str, value: str) -> None:
    body: dict[str, Any] = {"token": secrets.token_urlsafe(32), "event_id": "e1", "kind": "text", "text": "hi"}
    body[field] = value
    response = http.post("/api/chat/events", json=body)
    assert response.status_code == 422
    assert [e["loc"][-1] for e in response.json()["detail"]] == [field]


def test_a_missing_token_is_named(http: httpx.Client) -> None:
    response = http.post("/api/chat/events", json={"event_id": "e1", "kind": "start"})
    assert response.status_code == 422
    assert ["body", "token"] in [e["loc"] for e in response.json()["detail"]]


def test_the_inbox_refuses_an_invalid_token(http: httpx.Client) -> None:
    response = http.get("/api/chat/inbox", headers={"X-Chat-Token": "nope"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "X-Chat-Token"]
    assert http.get("/api/chat/inbox").status_code == 422  # no token at all


def test_the_inbox_takes_the_token_in_a_header_not_the_url(http: httpx.Client) -> None:
    token = http.post("/api/chat/session").json()["token"]
    assert http.get("/api/chat/inbox", params={"token": token}).status_code == 422
    response = http.get("/api/chat/inbox", headers={"X-Chat-Token": token})
    assert response.status_code == 200 and response.json() == {"replies": []}
    assert response.headers["cache-control"] == "no-store"


def test_the_inbox_returns_a_team_reply_once(http: httpx.Client, web_lotse: Any) -> None:
    chat = WebChat(http)
    chat.replies("start", municipality="moers", language="ar")
    assert "consent:yes" in actions(chat.replies("action", action="handoff"))
    asked = chat.replies("action", action="consent:yes")
    assert asked and "menu" in actions(asked)
    chat.replies("text", text="أحتاج مساعدة في رسالة من مكتب العمل")
    assert http.get("/api/chat/inbox", headers={"X-Chat-Token": chat.token}).json()["replies"] == []

    services = web_lotse.services
    digest = services.cipher.lookup_hash(f"{Channel.WEBCHAT}:{chat.token}")
    with Session(web_lotse.db) as session:  # a case manager answers (what the API will do)
        identity = session.exec(select(ChannelIdentity).where(ChannelIdentity.external_hash == digest)).one()
        handoff = session.exec(select(HandoffRequest).where(HandoffRequest.person_id == identity.person_id)).one()
        handoff.reply_enc = services.cipher.encrypt("Kommen Sie am Dienstag vorbei.")
        session.add(handoff)
        enqueue(session, OutboxKind.HANDOFF_REPLY, f"test-reply:{handoff.id}", utcnow(),
                person_id=identity.person_id, handoff_id=handoff.id)
        session.commit()
    sent = anyio.run(deliver_due, web_lotse.db, services.cipher, services.strings, None)
    assert sent == 1

    inbox = http.get("/api/chat/inbox", headers={"X-Chat-Token": chat.token}).json()["replies"]
    assert [r["text"] for r in inbox] == ["Kommen Sie am Dienstag vorbei."]
    assert inbox[0]["dir"] == "rtl"
    assert http.get("/api/chat/inbox", headers={"X-Chat-Token": chat.token}).json()["replies"] == []


def test_an_unknown_municipality_has_no_page(http: httpx.Client) -> None:
    assert http.get("/chat/atlantis").status_code == 404
    assert http.get("/chat/moers").status_code == 200


def test_a_municipality_that_switched_the_web_chat_off_has_no_page(http: httpx.Client, web_lotse: Any) -> None:
    def switch(enabled: bool) -> None:
        with Session(web_lotse.db) as session:
            place = session.exec(select(Municipality).where(Municipality.slug == "dortmund")).one()
            place.webchat_enabled = enabled
            session.add(place)
            session.commit()

    switch(False)
    try:
        assert http.get("/chat/dortmund").status_code == 404
    finally:
        switch(True)
    assert http.get("/chat/dortmund").status_code == 200


@pytest.mark.parametrize("query", ["", "?lang=ar", "?lang=fa&ref=abc", "?lang=<script>", "?ref=%3Cb%3E"])
def test_the_page_renders_for_any_query(http: httpx.Client, query: str) -> None:
    response = http.get("/chat/moers" + query)
    assert response.status_code in (200, 422)
    assert "<script>alert" not in response.text
    if "lang=ar" in query or "lang=fa" in query:
        assert 'dir="rtl"' in response.text


def test_the_page_weighs_at_most_100_kb_before_fonts(http: httpx.Client) -> None:
    page = http.get("/chat/moers?lang=ar")
    assert page.status_code == 200
    assets = re.findall(r'<(?:link[^>]+href|script[^>]+src)="([^"]+)"', page.text)
    assert any(a.endswith(".css") for a in assets) and any(a.endswith(".js") for a in assets)
    total = len(page.content)
    for asset in assets:
        response = http.get(asset)
        assert response.status_code == 200, asset
        total += len(response.content)
    print(f"web chat page weight: {total} bytes (HTML+CSS+JS)")
    assert total <= PAGE_BUDGET
