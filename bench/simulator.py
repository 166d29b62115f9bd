"""Simulated newcomers and the Telegram side of the world, in one asyncio process.

- A fake Telegram Bot API (aiohttp) that checks the HTML and records every message the bot
  sends, attributed to the update the chat is waiting on (or to none: reminders, notices).
- Telegram users whose updates go to the app's webhook, like Telegram would: a failed
  delivery (connection refused, 5xx) is delivered again, to any app process, until it
  gets a 200.
- Web-chat users who post to /api/chat/events and retry the same event_id after a failure.

Every user is sequential like a person: the next event only after the previous one was
answered. Arrivals are open-loop at a target rate, spread over idle users.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from bench.fake_telegram import (
    BOT_ID,
    BOT_USERNAME,
    TEXT_LIMIT,
    callback_update,
    message_update,
    parse_html,
    utf16_length,
)
from bench.http import JsonClient

LANGUAGES = ("de", "en", "ar", "uk", "ru", "fa", "tr")
MODEL_MUNICIPALITIES = (
    "koeln", "moers", "rheine", "dormagen", "hamm", "muenster", "bielefeld", "wuppertal",
    "dortmund", "muelheim-an-der-ruhr", "detmold", "bergisch-gladbach",
)
TELEGRAM_TOKEN = "424242:bench-token_abcdefghijklmnopqrstuvwxyz"
WEBHOOK_SECRET = "bench-webhook-secret"
NLU_EVAL = Path(__file__).resolve().parent.parent / "nlu" / "eval"


def question_pool(directory: Path = NLU_EVAL) -> dict[str, list[str]]:
    """Realistic messages per language: the NLU's held-out examples, emergencies left out."""
    pool: dict[str, list[str]] = {}
    for language in LANGUAGES:
        data = yaml.safe_load((directory / f"{language}.yml").read_text(encoding="utf-8"))
        texts: list[str] = []
        for block in data["nlu"]:
            if block["intent"] == "emergency":
                continue
            texts += [line[2:].strip() for line in block["examples"].splitlines() if line.startswith("- ")]
        pool[language] = texts
    return pool


# ---- what the bot sent ------------------------------------------------------------------
@dataclass
class Sent:
    chat: int
    method: str
    text: str
    buttons: list[str]
    update: int | None  # the update the chat was waiting on, None for unsolicited messages
    at: float


@dataclass
class FakeBotApi:
    """Accepts what Telegram accepts; records; answers like Telegram."""

    messages: list[Sent] = field(default_factory=list)
    by_update: dict[int, list[Sent]] = field(default_factory=dict)
    unsolicited: dict[int, list[Sent]] = field(default_factory=dict)
    waiting: dict[int, int] = field(default_factory=dict)  # chat -> update in flight
    rejected: list[str] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))  # type: ignore[type-arg]

    def app(self) -> web.Application:
        application = web.Application(client_max_size=20 * 1024 * 1024)
        application.router.add_route("*", "/bot{token}/{method}", self._endpoint)
        return application

    async def _endpoint(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TELEGRAM_TOKEN:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"].lower()
        params = await _params(request)
        if method == "getme":
            result: Any = {"id": BOT_ID, "is_bot": True, "first_name": "Lotse", "username": BOT_USERNAME}
        elif method in ("sendmessage", "senddocument"):
            try:
                result = self._record(method, params)
            except ValueError as exc:
                self.rejected.append(f"{method}: {exc}")
                return web.json_response({"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"}, status=400)
        elif method in ("answercallbackquery", "setwebhook", "deletewebhook", "setmycommands"):
            result = True
        else:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.json_response({"ok": True, "result": result})

    def webhook_answer(self, body: dict[str, Any]) -> None:
        params = dict(body)
        method = str(params.pop("method")).lower()
        if method != "sendmessage":
            self.rejected.append(f"{method}: not expected in a webhook answer")
            return
        try:
            self._record(method, params)
        except ValueError as exc:
            self.rejected.append(f"{method} (webhook answer): {exc}")

    def _record(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        chat = int(params.get("chat_id", 0))
        if not chat:
            raise ValueError("chat_id is empty")
        text = ""
        if method == "sendmessage":
            raw = str(params.get("text") or "")
            text = parse_html(raw) if str(params.get("parse_mode", "")).lower() == "html" else raw
            if not text.strip():
                raise ValueError("message text is empty")
            if utf16_length(text) > TEXT_LIMIT:
                raise ValueError("message is too long")
        markup = params.get("reply_markup") or {}
        buttons = [b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row]
        update = self.waiting.get(chat)
        sent = Sent(chat, method, text, buttons, update, time.monotonic())
        self.messages.append(sent)
        if update is None:
            self.unsolicited.setdefault(chat, []).append(sent)
        else:
            self.by_update.setdefault(update, []).append(sent)
        message: dict[str, Any] = {
            "message_id": next(self._ids), "date": int(time.time()),
            "chat": {"id": chat, "type": "private", "first_name": "Newcomer"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Lotse", "username": BOT_USERNAME},
        }
        if method == "sendmessage":
            message["text"] = text
        else:
            message["document"] = {"file_id": f"doc{message['message_id']}", "file_unique_id": f"u{message['message_id']}"}
        return message


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.read()
        if body:
            params.update(json.loads(body))
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, str):
                params[key] = json.loads(value) if value[:1] in ("{", "[") else value
    return params


# ---- users ------------------------------------------------------------------------------
@dataclass
class Step:
    kind: str  # "text" | "action" | "command" | "start"
    value: str
    label: str  # what the step is, for the mix figures


@dataclass
class Outcome:
    channel: str
    label: str
    latency: float
    replies: int
    attempts: int
    texts: list[str]
    buttons: list[str]
    attachment: bool


class User:
    """A newcomer: start, language, place; then questions, menus and maybe a booking."""

    def __init__(self, channel: str, ident: int, rng: random.Random, pool: dict[str, list[str]], booking_share: float) -> None:
        self.channel = channel
        self.ident = ident
        self.rng = rng
        self.language = rng.choice(LANGUAGES)
        self.place = rng.choice(MODEL_MUNICIPALITIES)
        self.pool = pool[self.language]
        self.books = rng.random() < booking_share
        self.booked = False
        self.token = f"bench{ident:010d}".ljust(40, "x")  # web chat token
        self.events = 0
        self.buttons: list[str] = []
        self.plan: list[Callable[[list[str]], Step | None]] = []
        self.busy = False
        self.done = False  # booked users stop after their booking (reminders come later)

    def next_step(self) -> Step | None:
        if self.events == 0:
            if self.channel == "telegram":
                return Step("command", "/start", "start")
            return Step("start", "", "start")
        if self.events == 1:
            return Step("action", f"lang:{self.language}", "menu")
        if self.events == 2:
            return Step("action", f"place:{self.place}", "menu")
        while self.plan:
            choose = self.plan[0]
            step = choose(self.buttons)
            if step is None or not getattr(choose, "repeats", False):
                self.plan.pop(0)  # a repeating step stays while the bot keeps offering it
            if step is not None:
                return step
        if self.books and not self.booked and self.events >= 4 and self.rng.random() < 0.5:
            self.plan = booking_plan(self.rng, self.language)
            return Step("action", "book", "booking")
        roll = self.rng.random()
        topics = [b for b in self.buttons if b.startswith("topic:")]
        if roll < 0.6 or not self.buttons:
            return Step("text", self.rng.choice(self.pool), "question")
        if roll < 0.85 and topics:
            return Step("action", self.rng.choice(topics), "menu")
        return Step("action", "menu", "menu")


def booking_plan(rng: random.Random, language: str) -> list[Callable[[list[str]], Step | None]]:
    """The booking dialogue, following the buttons the bot offers (as the booking test does)."""

    def press(prefix: str, optional: bool = False) -> Callable[[list[str]], Step | None]:
        def choose(buttons: list[str]) -> Step | None:
            found = [b for b in buttons if b == prefix or (prefix.endswith(":") and b.startswith(prefix))]
            if found:
                return Step("action", rng.choice(found), "booking")
            if optional:
                return None
            raise LookupError(prefix)
        return choose

    def answers(buttons: list[str]) -> Step | None:
        found = [b for b in buttons if b.startswith("book:answer:")]
        return Step("action", found[0], "booking") if found else None

    answers.repeats = True  # type: ignore[attr-defined]  # as many routing questions as asked

    def say(text: str) -> Callable[[list[str]], Step | None]:
        return lambda _buttons: Step("text", text, "booking")

    slot = press("book:slot:", optional=True)
    slot.repeats = True  # type: ignore[attr-defined]  # a slot taken meanwhile: the bot offers the rest
    name = rng.choice(["Amal", "Olena", "Reza", "Ayşe", "Dmitri", "Samir", "Mariam"])
    return [
        # Consent is asked once: someone who agreed before and starts over is not asked again.
        press("book:go"), answers, press("consent:yes", optional=True), press("book:details", optional=True),
        say(name), press("book:skip_phone"), press("book:interpreter:"),
        say("Ich brauche Hilfe mit Briefen vom Jobcenter" if language == "de" else "Help with letters please"),
        press("book:children:no"), slot,
    ]


# ---- the driver -------------------------------------------------------------------------
@dataclass
class Results:
    outcomes: list[Outcome] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    unanswered: int = 0  # arrivals with no idle user
    booked: dict[str, set[int]] = field(default_factory=lambda: {"telegram": set(), "webchat": set()})
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    gave_up: int = 0


class Simulator:
    def __init__(
        self,
        app_urls: list[str],
        fake: FakeBotApi,
        users: int,
        telegram_share: float,
        booking_share: float,
        seed: int = 7,
        retry_for: float = 60.0,
    ) -> None:
        self.app_urls = app_urls
        self.fake = fake
        self.rng = random.Random(seed)
        pool = question_pool()
        self.users = [
            User("telegram" if self.rng.random() < telegram_share else "webchat", 5_000_000 + i, random.Random(seed * 1000 + i), pool, booking_share)
            for i in range(users)
        ]
        self.results = Results()
        self.retry_for = retry_for
        self.measuring = False
        self._update_ids = itertools.count(1)
        self._event_ids = itertools.count(1)
        self._client = JsonClient(timeout=30.0)
        self._rr = itertools.count()
        self._idle: collections.deque[User] = collections.deque()

    async def __aenter__(self) -> Simulator:
        await self._client.__aenter__()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._client.__aexit__()

    def _url(self) -> str:
        return self.app_urls[next(self._rr) % len(self.app_urls)]

    async def run(self, rate: float, duration: float, warmup: float = 0.0) -> float:
        """Open-loop arrivals for warmup+duration seconds; returns the measured window length."""
        tasks: set[asyncio.Task[None]] = set()
        start = time.monotonic()
        measured_from = start + warmup
        end = measured_from + duration
        interval = 1.0 / rate
        next_at = start
        self._idle.extend(u for u in self.users if not u.busy and not u.done and u not in self._idle)
        while True:
            now = time.monotonic()
            if now >= end:
                break
            if now < next_at:
                await asyncio.sleep(next_at - now)
                continue
            next_at += interval
            self.measuring = now >= measured_from
            if not self._idle:  # everybody is waiting for an answer: the service is behind
                if self.measuring:
                    self.results.unanswered += 1
                continue
            user = self._idle.popleft()  # the one who waited longest speaks next
            user.busy = True
            task = asyncio.create_task(self._turn(user, self.measuring))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        window = time.monotonic() - measured_from
        if tasks:
            await asyncio.wait(tasks, timeout=self.retry_for + 30)
        return window

    async def _turn(self, user: User, measured: bool) -> None:
        try:
            try:
                step = user.next_step()
            except LookupError as missing:  # the booking dialogue went elsewhere (e.g. no slot left)
                self.results.errors[f"booking without {missing}"] = self.results.errors.get(f"booking without {missing}", 0) + 1
                user.plan = []
                step = Step("action", "menu", "menu")
            if step is None:
                return
            outcome = await (self._telegram(user, step) if user.channel == "telegram" else self._webchat(user, step))
            user.events += 1
            if outcome is None:
                return
            user.buttons = outcome.buttons or user.buttons
            if step.value.startswith("book:slot:") and outcome.attachment:
                user.booked = True
                user.done = True
                self.results.booked[user.channel].add(user.ident)
            if measured:
                self.results.outcomes.append(outcome)
        finally:
            user.busy = False
            if not user.done:
                self._idle.append(user)

    async def _deliver(self, path: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any, int]:
        """Like Telegram / a browser: deliver again (any process) until an answer comes."""
        deadline = time.monotonic() + self.retry_for
        attempts = 0
        while True:
            attempts += 1
            try:
                status, answer = await self._client.post(self._url() + path, body, headers)
                if status < 500:
                    return status, answer, attempts
                reason = f"HTTP {status}"
            except (TimeoutError, ConnectionError) as exc:
                reason = type(exc).__name__
            self.results.errors[reason] = self.results.errors.get(reason, 0) + 1
            if time.monotonic() > deadline:
                self.results.gave_up += 1
                return 0, None, attempts
            await asyncio.sleep(min(0.05 * attempts, 1.0))

    async def _telegram(self, user: User, step: Step) -> Outcome | None:
        update_id = next(self._update_ids)
        if step.kind == "action":
            update = callback_update(user.ident, step.value, update_id=update_id)
        else:
            update = message_update(user.ident, step.value, update_id=update_id)
        self.fake.waiting[user.ident] = update_id
        started = time.monotonic()
        status, body, attempts = await self._deliver(
            "/telegram/webhook", update,
            headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
        )
        latency = time.monotonic() - started
        if status == 200 and isinstance(body, dict) and "method" in body:
            self.fake.webhook_answer(body)  # Telegram runs the method in the webhook's answer
        self.fake.waiting.pop(user.ident, None)
        sent = self.fake.by_update.get(update_id, [])
        if status != 200:
            self.results.errors[f"telegram final {status}"] = self.results.errors.get(f"telegram final {status}", 0) + 1
            return None
        texts = [s.text for s in sent if s.method == "sendmessage"]
        if not sent:
            self.results.lost.append(f"telegram update {update_id} ({step.label})")
        if len(texts) != len(set(texts)):
            self.results.duplicated.append(f"telegram update {update_id} ({step.label}, {attempts} deliveries)")
        buttons = [b for s in sent for b in s.buttons]
        return Outcome("telegram", step.label, latency, len(sent), attempts, texts, buttons,
                       any(s.method == "senddocument" for s in sent))

    async def _webchat(self, user: User, step: Step) -> Outcome | None:
        event: dict[str, Any] = {"token": user.token, "event_id": f"e{next(self._event_ids)}", "kind": step.kind}
        if step.kind == "start":
            event["municipality"] = user.place
            event["language"] = user.language
        elif step.kind == "text":
            event["text"] = step.value
        elif step.kind == "action":
            event["action"] = step.value
        started = time.monotonic()
        status, body, attempts = await self._deliver("/api/chat/events", event)
        latency = time.monotonic() - started
        if status != 200 or not isinstance(body, dict):
            self.results.errors[f"webchat final {status}"] = self.results.errors.get(f"webchat final {status}", 0) + 1
            return None
        replies = body.get("replies") or []
        if not replies:
            self.results.lost.append(f"webchat event {event['event_id']} ({step.label})")
        texts = [str(r.get("text", "")) for r in replies]
        buttons = [b["action"] for r in replies for row in r.get("buttons", []) for b in row]
        return Outcome("webchat", step.label, latency, len(replies), attempts, texts, buttons,
                       any(r.get("attachment") for r in replies))


async def serve_fake(fake: FakeBotApi, port: int) -> web.AppRunner:
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
    return runner
