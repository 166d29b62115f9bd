"""Telegram end to end: the real python-telegram-bot against a fake Bot API, through the webhook."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import Session, func, select

from bot.replies import Button, ContactView, Reply
from bot.telegram.render import LIMIT, callback_data, render_html
from core.municipality import Municipality
from core.person import Conversation, ProcessedUpdate
from core.referral import LinkCode, new_code
from core.settings import Settings
from tests.bot.conftest import WEBHOOK_SECRET, LiveServer, channel_settings
from bench.fake_telegram import (
    Call,
    FakeTelegram,
    callback_update,
    message_update,
    parse_html,
    utf16_length,
)

pytestmark = pytest.mark.db

EMERGENCY_AR = "أخي لا يتنفس"  # "my brother is not breathing"
QUESTION_AR = "كيف أسجل عنواني في موير؟"
_chat_ids = itertools.count(900_001)


@pytest.fixture(scope="module")
def app(module_settings: Settings, module_lotse: Any) -> FastAPI:
    from lotse.app import create_app

    return create_app(module_settings, module_lotse)


@pytest.fixture(scope="module")
def server(app: FastAPI) -> Iterator[LiveServer]:
    with LiveServer(app) as live:
        yield live


@pytest.fixture(scope="module")
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


class Chat:
    """One private chat with the bot, driven through the webhook like Telegram would."""

    def __init__(self, http: httpx.Client, fake: FakeTelegram, chat_id: int | None = None) -> None:
        self.http = http
        self.fake = fake
        self.id = chat_id or next(_chat_ids)
        self._seen = 0

    def deliver(self, update: dict[str, Any]) -> list[Call]:
        response = self.http.post(
            "/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        )
        assert response.status_code == 200, response.text
        self.fake.webhook_answer(response.content)  # Telegram runs a method in the answer
        return self.new_calls()

    def new_calls(self) -> list[Call]:
        calls = [c for c in self.fake.sent(self.id) if c.method in ("sendMessage", "sendDocument")]
        fresh, self._seen = calls[self._seen :], len(calls)
        return fresh

    def say(self, text: str) -> list[Call]:
        return self.deliver(message_update(self.id, text))

    def press(self, data: str) -> list[Call]:
        return self.deliver(callback_update(self.id, data))

    def ready(self, language: str = "ar", place: str = "moers") -> list[Call]:
        self.say("/start")
        self.press(f"lang:{language}")
        return self.press(f"place:{place}")


def buttons(calls: list[Call]) -> list[str]:
    return [data for call in calls for _, data in call.buttons]


def texts(calls: list[Call]) -> str:
    """What the person sees: Telegram's parsed text of every message."""
    return "\n".join(c.shown for c in calls)


def conversation_state(lotse: Any, chat: Chat) -> str:
    from core.person import ChannelIdentity

    digest = lotse.services.cipher.lookup_hash(f"telegram:{chat.id}")
    with Session(lotse.db) as session:
        identity = session.exec(select(ChannelIdentity).where(ChannelIdentity.external_hash == digest)).one()
        conversation = session.exec(select(Conversation).where(Conversation.person_id == identity.person_id)).one()
        return conversation.state


@pytest.fixture
def chat(http: httpx.Client, fake_telegram: FakeTelegram) -> Chat:
    assert not fake_telegram.rejected, fake_telegram.rejected
    return Chat(http, fake_telegram)


@pytest.fixture(autouse=True)
def _nothing_refused(fake_telegram: FakeTelegram) -> Iterator[None]:
    """Whatever a test does, Telegram never refuses what the bot sends (except 429 on purpose)."""
    fake_telegram.rejected.clear()
    yield
    refused = [r for r in fake_telegram.rejected if r[2] != "429" and r[0] != "answerCallbackQuery"]
    assert not refused, refused


# ---- the fake answers like Telegram (so that passing tests mean something) ---------------
@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"text": "<b>x</a>"}, 'Bad Request: can\'t parse entities: Unmatched end tag at byte offset 4, expected "</b>", found "</a>"'),
        ({"text": "<script>x</script>"}, 'Bad Request: can\'t parse entities: Unsupported start tag "script" at byte offset 0'),
        ({"text": "<b>open"}, 'Bad Request: can\'t parse entities: Can\'t find end tag corresponding to start tag "b"'),
        ({"text": "a & b"}, "Bad Request: can't parse entities: Unsupported HTML entity at byte offset 2"),
        ({"text": "&nbsp;"}, "Bad Request: can't parse entities: Unsupported HTML entity at byte offset 0"),
        ({"text": "x <"}, "Bad Request: can't parse entities: Unclosed start tag at byte offset 2"),
        ({"text": '<span class="x">s</span>'}, 'Bad Request: can\'t parse entities: Tag "span" must have class "tg-spoiler"'),
        ({"text": "a" * 4097}, "Bad Request: message is too long"),
        ({"text": "😀" * 2049}, "Bad Request: message is too long"),
        ({"text": "<b> </b>"}, "Bad Request: message text is empty"),
        ({"text": None}, "Bad Request: message text is empty"),
        ({"chat_id": None}, "Bad Request: chat_id is empty"),
        ({"reply_markup": {"inline_keyboard": [[{"text": "x", "callback_data": "é" * 33}]]}}, "Bad Request: BUTTON_DATA_INVALID"),
        ({"reply_markup": {"inline_keyboard": [[{"text": "x", "callback_data": ""}]]}}, "Bad Request: BUTTON_DATA_INVALID"),
        ({"reply_markup": {"inline_keyboard": [[{"text": "x"}]]}}, "Bad Request: text buttons are unallowed in the inline keyboard"),
        ({"parse_mode": "XML"}, "Bad Request: unsupported parse_mode"),
    ],
)
def test_fake_refuses_what_telegram_refuses(fake_telegram: FakeTelegram, params: dict[str, Any], description: str) -> None:
    body = {"chat_id": 1, "text": "ok", "parse_mode": "HTML", **params}
    body = {k: v for k, v in body.items() if v is not None}
    response = httpx.post(f"{fake_telegram.api_url}{fake_telegram.token}/sendMessage", json=body)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error_code": 400, "description": description}
    fake_telegram.rejected.clear()


@pytest.mark.parametrize(
    "text",
    ["<b>b</b> <strong>s</strong> <i>i</i> <u>u</u> <s>s</s> <del>d</del> <code>c</code> <pre>p</pre>",
     '<a href="https://example.org/?a=1&amp;b=2">l</a> &lt;&gt;&amp;&quot;&#39;&#x27; <span class="tg-spoiler">s</span>',
     "<blockquote>q <b>nested <i>deep</i></b></blockquote> <tg-spoiler>t</tg-spoiler>",
     "a" * 4096, "😀" * 2048],
)
def test_fake_accepts_what_telegram_accepts(fake_telegram: FakeTelegram, text: str) -> None:
    response = httpx.post(
        f"{fake_telegram.api_url}{fake_telegram.token}/sendMessage", data={"chat_id": "2", "text": text, "parse_mode": "HTML"}
    )
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["chat"]["id"] == 2 and result["from"]["is_bot"] is True
    assert "<" not in result["text"] or "&lt;" in text


def test_fake_answers_unknown_methods_and_tokens_like_telegram(fake_telegram: FakeTelegram) -> None:
    wrong_method = httpx.post(f"{fake_telegram.api_url}{fake_telegram.token}/sendMesage", json={})
    assert wrong_method.status_code == 404 and wrong_method.json()["description"] == "Not Found"
    wrong_token = httpx.post(f"{fake_telegram.api_url}123:nope/getMe")
    assert wrong_token.status_code == 401 and wrong_token.json()["description"] == "Unauthorized"


# ---- the webhook's door -----------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
     {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET[:-1]},
     {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET + "x"},
     {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET.upper()}],
    ids=["missing", "wrong", "shorter", "longer", "wrong-case"],
)
def test_webhook_refuses_a_wrong_secret_token(http: httpx.Client, fake_telegram: FakeTelegram, headers: dict[str, str]) -> None:
    chat_id = next(_chat_ids)
    response = http.post("/telegram/webhook", json=message_update(chat_id, "/start"), headers=headers)
    assert response.status_code == 401
    assert fake_telegram.sent(chat_id) == []


def test_webhook_accepts_the_right_secret_token(chat: Chat) -> None:
    calls = chat.say("/start")
    assert [c.method for c in calls] == ["sendMessage"]


@pytest.mark.parametrize("body", ["[1, 2]", '{"message": 5}', '{"update_id": 1, "message": 5}', "not json"])
def test_webhook_answers_400_to_malformed_updates(http: httpx.Client, body: str) -> None:
    response = http.post(
        "/telegram/webhook", content=body, headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
                                                     "Content-Type": "application/json"},
    )
    assert response.status_code == 400


def _group(update: dict[str, Any]) -> dict[str, Any]:
    holder = update.get("message") or update["callback_query"]["message"]
    holder["chat"] = {"id": -100123, "type": "supergroup", "title": "Helfer"}
    return update


@pytest.mark.parametrize(
    ("update", "expected"),
    [
        (message_update(42, "Wo melde ich mich an?", update_id=7), ("42", "7", "text", "Wo melde ich mich an?", None)),
        (message_update(42, "/start@LotseTestBot  ref-abc ", update_id=8), ("42", "8", "command", "start", None)),
        (callback_update(42, "topic:housing", update_id=9), ("42", "9", "action", "topic:housing", "cq9")),
        (_group(message_update(42, "hallo", update_id=10)), None),
        (_group(callback_update(42, "menu", update_id=11)), None),
        ({"update_id": 12, "edited_message": message_update(42, "x")["message"]}, None),
        ({"update_id": 13, "message": {**message_update(42, "x")["message"], "text": None, "sticker": {}}},
         ("42", "13", "command", "help", None)),
    ],
    ids=["text", "command-with-bot-name", "button", "group-message", "group-button", "edited", "sticker"],
)
def test_the_event_is_read_from_the_update_json(update: dict[str, Any], expected: tuple[Any, ...] | None) -> None:
    from bot.telegram.adapter import event_from_update

    event = event_from_update(update)
    if expected is None:
        assert event is None
        return
    assert event is not None
    chat, key, kind, value, query = expected
    incoming = event.incoming
    assert (incoming.external_id, incoming.update_key, event.callback_query_id) == (chat, key, query)
    assert getattr(incoming, kind) == value
    if kind == "command" and value == "start":
        assert incoming.payload == "ref-abc"


@pytest.mark.parametrize(
    "update",
    [{"update_id": "1"}, {"update_id": 1, "message": {"chat": {"id": "42", "type": "private"}, "text": "x"}},
     {"update_id": 1, "message": {"chat": {"id": 42, "type": "private"}, "text": 5}},
     {"update_id": 1, "callback_query": {"id": 5, "data": "menu", "message": {"chat": {"id": 42, "type": "private"}}}},
     {"update_id": 1, "callback_query": []}],
    ids=["update-id", "chat-id", "text", "query-id", "query"],
)
def test_an_update_telegram_would_never_send_is_refused(update: dict[str, Any]) -> None:
    from bot.telegram.adapter import MalformedUpdate, event_from_update

    with pytest.raises(MalformedUpdate):
        event_from_update(update)


# ---- first contact ------------------------------------------------------------------------
def test_start_offers_the_seven_languages(chat: Chat) -> None:
    calls = chat.say("/start")
    assert buttons(calls) == ["lang:de", "lang:en", "lang:ar", "lang:uk", "lang:ru", "lang:fa", "lang:tr"]
    assert calls[-1].params["parse_mode"] == "HTML"


def test_arabic_and_a_place_give_welcome_and_menu(chat: Chat) -> None:
    chat.say("/start")
    asked = chat.press("lang:ar")
    assert "place:kreis-wesel" in buttons(asked)
    calls = chat.press("place:moers")
    assert "Moers" in texts(calls[:1])
    assert "مرحب" in texts(calls[:1])  # "welcome" in Arabic
    menu = buttons(calls)
    assert {"topic:registration_address", "book", "handoff", "cmd:privacy"} <= set(menu)


def test_arabic_question_is_answered_in_html_with_the_contact(chat: Chat) -> None:
    chat.ready("ar")
    calls = chat.say(QUESTION_AR)
    assert calls and all(c.params.get("parse_mode") == "HTML" for c in calls)
    shown = texts(calls)  # what Telegram displays after parsing our HTML
    assert "تسجيل العنوان" in shown  # the topic's title
    assert "Bürgerservice der Stadt Moers" in shown
    assert "Meldebescheinigung" in shown
    assert "helpful:yes:registration_address" in buttons(calls)


def test_a_place_typed_by_name_in_arabic_script(chat: Chat, module_lotse: Any) -> None:
    chat.say("/start")
    chat.press("lang:ar")
    calls = chat.say("مورس")
    assert "Moers" in texts(calls)
    assert conversation_state(module_lotse, chat) == "ready"


# ---- emergencies first, from every state --------------------------------------------------
def _before_language(chat: Chat) -> None:
    chat.say("/start")


def _choosing_place(chat: Chat) -> None:
    chat.say("/start")
    chat.press("lang:ar")


def _in_consent(chat: Chat) -> None:
    chat.ready("ar")
    calls = chat.press("handoff")
    assert "consent:yes" in buttons(calls)


def _in_handoff(chat: Chat) -> None:
    _in_consent(chat)
    chat.press("consent:yes")


def _typing_a_name(chat: Chat) -> None:
    chat.ready("ar")
    _book_until_name(chat)


def _book_until_name(chat: Chat) -> list[Call]:
    calls = chat.press("book")
    calls = chat.press("book:go")
    for _ in range(8):
        actions = buttons(calls)
        step = next((a for a in actions if a.startswith(("book:answer:", "book:town:"))), None)
        if step is not None:
            calls = chat.press(step)
        elif "consent:yes" in actions:
            calls = chat.press("consent:yes")
        elif "book:details" in actions:
            calls = chat.press("book:details")
        elif "book:skip_name" in actions:
            return calls
        else:
            raise AssertionError(f"unexpected booking step: {actions}")
    raise AssertionError("booking never asked for a name")


STATES = {
    "no-language": (_before_language, "language"),
    "choosing-place": (_choosing_place, "place"),
    "consent": (_in_consent, "consent"),
    "booking-name": (_typing_a_name, "book_name"),
    "handoff-question": (_in_handoff, "handoff_question"),
}


@pytest.mark.parametrize("state", list(STATES))
def test_emergency_is_answered_first_in_every_state(chat: Chat, module_lotse: Any, state: str) -> None:
    reach, expected_state = STATES[state]
    reach(chat)
    assert conversation_state(module_lotse, chat) == expected_state
    calls = chat.say(EMERGENCY_AR)
    first = calls[0].shown
    assert "112" in first and "110" in first
    assert conversation_state(module_lotse, chat) == expected_state  # nothing else happened


def test_emergency_as_the_very_first_message(chat: Chat) -> None:
    calls = chat.say("Hilfe, mein Vater ist bewusstlos")
    first = calls[0].shown
    assert "112" in first and "110" in first


@pytest.fixture
def bot_api_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over the rate: no webhook answers, every reply through the Bot API."""
    from bot.telegram.adapter import AnswerBudget

    monkeypatch.setattr(AnswerBudget, "take", lambda self: False)


# ---- the webhook's answer ---------------------------------------------------------------
def test_the_last_reply_comes_back_as_the_webhook_answer(chat: Chat, http: httpx.Client, fake_telegram: FakeTelegram) -> None:
    chat.ready("ar")
    before = len(fake_telegram.sent(chat.id))
    response = http.post(
        "/telegram/webhook", json=callback_update(chat.id, "topic:housing"),
        headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["method"] == "sendMessage" and str(answer["chat_id"]) == str(chat.id)
    assert answer["parse_mode"] == "HTML" and answer["link_preview_options"] == {"is_disabled": True}
    assert fake_telegram.sent(chat.id)[before:] == []  # nothing through the Bot API for this chat
    fake_telegram.webhook_answer(response.content)  # what Telegram does with it
    shown = chat.new_calls()[-1]
    assert shown.shown and shown.buttons  # parsed like any sendMessage: valid HTML, valid keyboard


def test_a_webhook_answer_telegram_never_got_is_given_again_without_a_second_turn(
    chat: Chat, http: httpx.Client, module_lotse: Any
) -> None:
    chat.ready("ar")
    question = message_update(chat.id, QUESTION_AR)
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    lost = http.post("/telegram/webhook", json=question, headers=headers)  # answer lost on the way
    assert lost.status_code == 200 and lost.json()["method"] == "sendMessage"
    before = chat.new_calls()
    again = chat.deliver(question)  # Telegram delivers the update again
    assert [c.text for c in again] == [lost.json()["text"]]
    assert all(c.text != lost.json()["text"] for c in before)  # the earlier replies: not again
    with Session(module_lotse.db) as session:
        key = str(question["update_id"])
        assert session.exec(select(func.count()).select_from(ProcessedUpdate).where(ProcessedUpdate.update_key == key)).one() == 1


def test_over_the_rate_every_reply_goes_through_the_bot_api(chat: Chat, http: httpx.Client, bot_api_only: None) -> None:
    chat.ready("ar")
    response = http.post(
        "/telegram/webhook", json=message_update(chat.id, QUESTION_AR),
        headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
    )
    assert response.status_code == 200 and response.content == b""
    assert [c.method for c in chat.new_calls()][:1] == ["sendMessage"]


def test_the_answer_budget_refills_every_second() -> None:
    from bot.telegram.adapter import AnswerBudget

    now = [100.2]
    budget = AnswerBudget(2, clock=lambda: now[0])
    assert [budget.take(), budget.take(), budget.take()] == [True, True, False]
    now[0] = 100.9  # the same second
    assert not budget.take()
    now[0] = 101.0  # the next one
    assert [budget.take(), budget.take(), budget.take()] == [True, True, False]


# ---- replays ------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["webhook answer", "bot api"])
def test_the_same_update_twice_runs_one_turn(chat: Chat, module_lotse: Any, request: pytest.FixtureRequest, mode: str) -> None:
    """Telegram delivers again only what it did not get; a replay never runs the turn twice.
    Through the Bot API every sent reply is marked, so nothing goes twice; a webhook answer
    is unmarked (nobody learns whether Telegram took it), so a replay gives that one again."""
    if mode == "bot api":
        request.getfixturevalue("bot_api_only")
    chat.ready("ar")
    question = message_update(chat.id, QUESTION_AR)
    first = chat.deliver(question)
    assert first
    again = chat.deliver(question)
    assert [c.text for c in again] == ([] if mode == "bot api" else [first[-1].text])
    press = callback_update(chat.id, "topic:housing")
    pressed = chat.deliver(press)
    assert pressed
    assert [c.text for c in chat.deliver(press)] == ([] if mode == "bot api" else [pressed[-1].text])
    with Session(module_lotse.db) as session:
        key = str(question["update_id"])
        assert session.exec(select(func.count()).select_from(ProcessedUpdate).where(ProcessedUpdate.update_key == key)).one() == 1


def test_replies_that_could_not_be_sent_go_out_once_when_telegram_delivers_again(
    chat: Chat, fake_telegram: FakeTelegram, http: httpx.Client, bot_api_only: None
) -> None:
    chat.ready("ar")
    question = message_update(chat.id, QUESTION_AR)
    fake_telegram.answer_error(1, 502, "Bad Gateway")
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    failed = http.post("/telegram/webhook", json=question, headers=headers)
    assert failed.status_code == 500  # so Telegram delivers the update again
    assert chat.new_calls() == []
    again = chat.deliver(question)  # Telegram's redelivery: the kept replies, not a new turn
    assert again and len({c.shown for c in again}) == len(again)
    assert all(c.method == "sendMessage" for c in again)
    assert chat.deliver(question) == []  # delivered now: nothing twice
    fake_telegram.rejected.clear()


# ---- hostile input ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    ["<b>x</a><script>alert(1)</script>", "&", "&amp; &nbsp; &#0; <i>", "a" * 10_000,
     "ب " * 5_000, "😀" * 4_000, "</b>" * 1_000, '"><a href="javascript:alert(1)">'],
    ids=["tags", "ampersand", "entities", "10k-word", "10k-arabic-words", "4k-emoji", "end-tags", "attribute"],
)
def test_hostile_input_never_breaks_html_or_the_length_limit(chat: Chat, fake_telegram: FakeTelegram, text: str) -> None:
    chat.ready("ar")
    calls = chat.say(text)
    assert calls, "every message gets an answer"
    for call in calls:
        assert utf16_length(call.text or "") <= LIMIT


def test_hostile_input_while_choosing_the_place(chat: Chat) -> None:
    chat.say("/start")
    chat.press("lang:de")
    calls = chat.say("<b>Moers</a> & <script>")
    assert calls


HOSTILE = '<b>x</a><script>&amp;&nbsp;"\''


@pytest.mark.parametrize(
    "reply",
    [
        Reply(text="a" * 10_000, language="de", title=HOSTILE),
        Reply(text=("Absatz " * 300 + "\n\n") * 20, language="de"),
        Reply(text="😀" * 5_000, language="de"),
        Reply(text=HOSTILE * 500, language="ar", notes=[HOSTILE * 300], links=[(HOSTILE, "https://e.org/?a=1&b=<2>")]),
        Reply(text="x", language="de", checklist=[HOSTILE * 10] * 200, checklist_title=HOSTILE,
              contacts=[ContactView(name=HOSTILE * 50, address=HOSTILE, map_url="https://osm.org/?q=a&b",
                                    phone="+49 <1>", email="a&b@example.org", opening_hours=(HOSTILE,) * 30,
                                    website="https://x.org/" + "y" * 5000)] * 5),
        Reply(text="   ", language="de", buttons=[[Button("ok", "menu")]]),
    ],
    ids=["long-word-title", "paragraphs", "emoji", "escaped-noise", "huge-blocks", "blank-with-buttons"],
)
def test_rendered_messages_are_valid_telegram_html_under_the_limit(reply: Reply) -> None:
    messages = render_html(reply)
    assert messages
    for html in messages:
        plain = parse_html(html)  # raises with Telegram's error text on invalid HTML
        assert plain.strip()
        assert utf16_length(plain) <= LIMIT
    if reply.text.strip():
        shown = "".join(parse_html(m) for m in messages)
        assert reply.text.strip()[:50] in shown or reply.text.strip()[:50].replace(" ", "") in shown.replace(" ", "").replace("\n", "")


def test_callback_data_is_cut_at_64_bytes_not_characters() -> None:
    data = callback_data("topic:" + "ع" * 60)
    assert 1 <= len(data.encode()) <= 64
    assert data.startswith("topic:")


async def test_html_that_telegram_refuses_is_resent_as_plain_text(fake_telegram: FakeTelegram) -> None:
    from telegram import Bot

    from bot.telegram.adapter import _send_text

    chat_id = next(_chat_ids)
    async with Bot(fake_telegram.token, base_url=fake_telegram.api_url) as bot:
        await _send_text(bot, chat_id, "<b>Notruf 112</a> &amp; 110", None)
    assert [c.shown for c in fake_telegram.messages(chat_id)] == ["Notruf 112 & 110"]
    assert [r[2] for r in fake_telegram.rejected][-1].startswith("Bad Request: can't parse entities")
    fake_telegram.rejected.clear()


# ---- deep links ---------------------------------------------------------------------------
def _link_code(lotse: Any, language: str, place: str = "moers") -> str:
    with Session(lotse.db) as session:
        municipality = session.exec(select(Municipality).where(Municipality.slug == place)).one()
        code = LinkCode(code=new_code(), municipality_id=municipality.id, language=language)
        session.add(code)
        session.commit()
        return code.code


def test_deep_link_presets_place_and_language(chat: Chat, module_lotse: Any) -> None:
    code = _link_code(module_lotse, "uk")
    calls = chat.say(f"/start {code}")
    assert not any(a.startswith(("lang:", "place:")) for a in buttons(calls))
    assert "Moers" in texts(calls)
    assert "Ласкаво" in texts(calls)  # Ukrainian welcome
    assert "topic:registration_address" in buttons(calls)
    with Session(module_lotse.db) as session:
        assert session.exec(select(LinkCode).where(LinkCode.code == code)).one().conversations == 1


@pytest.mark.parametrize(
    "payload",
    ["unknown-code", "a b c", "x" * 65, "y" * 5000, "<script>alert(1)</script>", "../../etc/passwd", "%00%0a", "&amp;"],
    ids=["unknown", "garbled", "overlong", "huge", "script", "path", "percent", "entity"],
)
def test_other_deep_link_payloads_start_normally(chat: Chat, payload: str) -> None:
    calls = chat.say(f"/start {payload}")
    assert buttons(calls)[:3] == ["lang:de", "lang:en", "lang:ar"]


# ---- two processes, one database ----------------------------------------------------------
def test_two_app_instances_share_the_conversation(
    chat: Chat, module_settings: Settings, fake_telegram: FakeTelegram
) -> None:
    from lotse.app import create_app

    chat.say("/start")
    chat.press("lang:ar")  # through app A (the module's server)
    with LiveServer(create_app(module_settings)) as other, httpx.Client(base_url=other.url, timeout=30) as client:
        b = Chat(client, fake_telegram, chat.id)
        b._seen = chat._seen
        calls = b.press("place:moers")
        assert "Moers" in texts(calls) and "topic:registration_address" in buttons(calls)
        answer = b.say(QUESTION_AR)
        assert "Bürgerservice der Stadt Moers" in texts(answer)
        chat._seen = b._seen
    again = chat.say("/menu")  # and back through A
    assert "topic:registration_address" in buttons(again)


# ---- booking ------------------------------------------------------------------------------
def test_booking_on_telegram_ends_with_an_ics_document(chat: Chat) -> None:
    chat.ready("de")
    _book_until_name(chat)
    calls = chat.say("Amina")
    assert "book:skip_phone" in buttons(calls)
    calls = chat.press("book:skip_phone")
    interpreter = next(a for a in buttons(calls) if a.startswith("book:interpreter:"))
    calls = chat.press(interpreter)
    calls = chat.press("book:skip_words")
    calls = chat.press("book:children:no")
    slot = next(a for a in buttons(calls) if a.startswith("book:slot:"))
    calls = chat.press(slot)
    documents = [c for c in calls if c.method == "sendDocument"]
    assert len(documents) == 1
    filename, data, _ = documents[0].document  # type: ignore[misc]
    assert filename.startswith("lotse-") and filename.endswith(".ics")
    assert data.startswith(b"BEGIN:VCALENDAR") and b"BEGIN:VEVENT" in data
    assert "appointment:cancel" in buttons(calls)


def test_the_scheduler_process_sends_telegram_reminders(
    chat: Chat, module_settings: Settings, module_lotse: Any, fake_telegram: FakeTelegram
) -> None:
    """role=scheduler serves no chats but must reach Telegram: reminders go out from there."""
    from sqlalchemy import update

    from bot.notices import deliver_due
    from bot.telegram.adapter import send_replies
    from core.clock import utcnow
    from core.outbox import OutboxKind, OutboxMessage
    from core.settings import Role
    from lotse.app import create_app

    chat.ready("de")
    _book_until_name(chat)
    chat.say("Amina")
    calls = chat.press("book:skip_phone")
    chat.press(next(a for a in buttons(calls) if a.startswith("book:interpreter:")))
    chat.press("book:skip_words")
    calls = chat.press("book:children:no")
    calls = chat.press(next(a for a in buttons(calls) if a.startswith("book:slot:")))
    assert any(c.method == "sendDocument" for c in calls)  # booked
    scheduler_settings = module_settings.model_copy(update={"role": Role.SCHEDULER})
    app = create_app(scheduler_settings, module_lotse)
    telegram = app.state.telegram
    assert telegram is not None and telegram.updater is None  # a bot to send with, no polling
    with Session(module_lotse.db) as session:
        session.execute(
            update(OutboxMessage).where(OutboxMessage.kind == OutboxKind.REMINDER).values(due_at=utcnow())
        )
        session.commit()

    async def run() -> int:
        await telegram.initialize()
        try:
            services = module_lotse.services
            return await deliver_due(
                services.db, services.cipher, services.strings,
                lambda address, replies: send_replies(telegram.bot, address, replies),
            )
        finally:
            await telegram.shutdown()

    import asyncio

    sent = asyncio.run(run())
    assert sent >= 1
    assert any("Termin" in c.shown for c in chat.new_calls())


# ---- back-off -----------------------------------------------------------------------------
def test_429_is_retried_and_the_message_arrives_once(chat: Chat, fake_telegram: FakeTelegram, bot_api_only: None) -> None:
    fake_telegram.answer_429(2, retry_after=1)
    calls = chat.say("/start")
    assert len([c for c in calls if c.method == "sendMessage"]) == 1
    assert [r[2] for r in fake_telegram.rejected] == ["429", "429"]


# ---- polling --------------------------------------------------------------------------------
def test_polling_mode_answers_queued_updates(
    tmp_path: Path, module_settings: Settings, module_lotse: Any, fake_telegram: FakeTelegram
) -> None:
    from lotse.app import create_app

    settings = channel_settings(
        tmp_path, module_settings.database_url, module_settings.resolved_nlu_model_path, fake_telegram,
        telegram_webhook_secret=None,
    )
    chat_id = next(_chat_ids)
    fake_telegram.queue_update(message_update(chat_id, "/start"))
    with LiveServer(create_app(settings, module_lotse)):
        assert fake_telegram.wait_for(lambda: bool(fake_telegram.messages(chat_id)), timeout=20)
    assert buttons(fake_telegram.messages(chat_id))[:2] == ["lang:de", "lang:en"]
    assert fake_telegram.sent(method="deleteWebhook")
