"""python-telegram-bot wiring: updates in, replies out; the dialogue lives elsewhere."""

from __future__ import annotations

import hmac
import io
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Header, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.engine import DialogueEngine
from bot.replies import Incoming, Reply
from bot.telegram.http import AiohttpRequest
from bot.telegram.render import keyboard, keyboard_json, plain_text, render_html
from core.metrics import MESSAGES_OUT, REPLY_LATENCY, SEND_ERRORS, TURN_ERRORS
from core.person import Channel
from core.settings import Settings

log = logging.getLogger(__name__)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass(frozen=True)
class TelegramEvent:
    """What Lotse reads from a Telegram update: the dialogue's event, and the callback query
    (a button press) to answer so the button stops spinning."""

    incoming: Incoming
    callback_query_id: str | None = None


def event_from_update(update: Mapping[str, Any]) -> TelegramEvent | None:
    """The event in an update as Telegram sends it (JSON), or None when it is not for the
    dialogue (groups, edited messages, ...). Raises MalformedUpdate for what Telegram would
    never send.

    Read from the JSON directly: building python-telegram-bot's objects for every update
    cost 75–90 µs (timeit), for the four fields Lotse reads; the load benchmark found it
    with py-spy."""
    key = update.get("update_id")
    if not isinstance(key, int):
        raise MalformedUpdate("update_id")
    query = update.get("callback_query")
    if query is not None:
        chat = _private_chat(_object(_object(query, "callback_query").get("message") or {}, "message"))
        if chat is None:
            return None
        query_id = query.get("id")
        data = query.get("data") or ""
        if not isinstance(query_id, str) or not isinstance(data, str):
            raise MalformedUpdate("callback_query")
        return TelegramEvent(Incoming(Channel.TELEGRAM, chat, str(key), action=data), query_id)
    message = update.get("message")
    if message is None:
        return None
    chat = _private_chat(_object(message, "message"))
    if chat is None:
        return None
    text = message.get("text")
    if text is None:
        return TelegramEvent(Incoming(Channel.TELEGRAM, chat, str(key), command="help"))
    if not isinstance(text, str):
        raise MalformedUpdate("message.text")
    if text.startswith("/"):
        command, _, rest = text[1:].partition(" ")
        command = command.split("@")[0].lower()
        return TelegramEvent(Incoming(Channel.TELEGRAM, chat, str(key), command=command, payload=rest.strip() or None))
    return TelegramEvent(Incoming(Channel.TELEGRAM, chat, str(key), text=text))


class MalformedUpdate(ValueError):
    """An update that is not what Telegram sends."""


def _object(value: object, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedUpdate(name)
    return value


def _private_chat(message: Mapping[str, Any]) -> str | None:
    """The chat id of a private chat (Lotse speaks with one person at a time), else None."""
    chat = message.get("chat")
    if chat is None:
        return None
    chat = _object(chat, "chat")
    chat_id = chat.get("id")
    if not isinstance(chat_id, int) or isinstance(chat_id, bool):
        raise MalformedUpdate("chat.id")
    return str(chat_id) if chat.get("type") == "private" else None


async def send_replies(bot: Bot, chat_id: int | str, replies: list[Reply]) -> None:
    """Every reply in order: text split under the limit, buttons under the last part, then the file."""
    for reply in replies:
        texts = render_html(reply)
        for index, text in enumerate(texts):
            last = index == len(texts) - 1
            await _send_text(bot, chat_id, text, keyboard(reply) if last else None)
        if reply.attachment is not None:
            await bot.send_document(
                chat_id=chat_id,
                document=io.BytesIO(reply.attachment.data),
                filename=reply.attachment.filename,
            )


async def _send_text(bot: Bot, chat_id: int | str, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """HTML as rendered; should Telegram ever refuse the markup, the same words as plain text."""
    try:
        await bot.send_message(
            chat_id=chat_id, text=text, parse_mode=ParseMode.HTML, reply_markup=markup,
            link_preview_options=NO_PREVIEW,
        )
    except BadRequest as exc:
        if "parse entities" not in exc.message.lower():
            raise
        log.error("telegram refused our HTML; sending plain text instead")
        await bot.send_message(
            chat_id=chat_id, text=plain_text(text), reply_markup=markup, link_preview_options=NO_PREVIEW
        )


async def _answer_callback(bot: Bot, query_id: str) -> None:
    """Stop the button's spinner at once; a replayed update's query may be answered already."""
    try:
        await bot.answer_callback_query(query_id)
    except BadRequest:
        log.info("callback query already answered or expired")


class AnswerBudget:
    """How many replies may still go out as webhook answers this second.

    Telegram runs a method placed in the webhook's HTTP answer itself, which saves a request
    per update, but tells nobody if it fails. Within Telegram's rate that cannot be a 429; above
    it, replies go through the Bot API again, where the rate limiter waits and retries."""

    def __init__(self, per_second: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self._clock = clock
        self._second = 0
        self._used = 0

    def take(self) -> bool:
        now = int(self._clock())
        if now != self._second:
            self._second, self._used = now, 0
        if self._used >= self.per_second:
            return False
        self._used += 1
        return True


def webhook_answer(chat_id: int | str, reply: Reply) -> dict[str, Any] | None:
    """`reply` as a sendMessage for the webhook's answer, or None when it cannot be one (a
    file, or text over one message)."""
    if reply.attachment is not None:
        return None
    texts = render_html(reply)
    if len(texts) != 1:
        return None
    answer: dict[str, Any] = {
        "method": "sendMessage", "chat_id": chat_id, "text": texts[0], "parse_mode": ParseMode.HTML.value,
        "link_preview_options": {"is_disabled": True},
    }
    markup = keyboard_json(reply)
    if markup is not None:
        answer["reply_markup"] = markup
    return answer


async def answer_update(
    bot: Bot, dialogue: DialogueEngine, event: TelegramEvent | None, budget: AnswerBudget | None = None
) -> dict[str, Any] | None:
    """Handle one update and send its replies; raises when they could not be sent, so the
    webhook answers 500 and Telegram delivers the update again (the kept replies go out).

    With a budget (webhook mode), the last reply comes back as the webhook's answer instead of
    being sent. It is not marked delivered: should Telegram not receive the answer, it delivers
    the update again, and the replay answers with that reply once more."""
    started = time.perf_counter()
    if event is None:
        return None
    incoming = event.incoming
    if event.callback_query_id is not None:
        await _answer_callback(bot, event.callback_query_id)
    try:
        # On the event loop, not in a worker thread: see `bot.engine.DialogueEngine`.
        replies = dialogue.handle(incoming)
    except Exception:
        TURN_ERRORS.labels(Channel.TELEGRAM).inc()
        raise
    answer = webhook_answer(incoming.external_id, replies[-1]) if replies and budget is not None else None
    if answer is not None and not budget.take():  # type: ignore[union-attr]
        answer = None
    to_send = replies[:-1] if answer is not None else replies
    for index, reply in enumerate(to_send):
        try:
            await send_replies(bot, incoming.external_id, [reply])
        except (Forbidden, BadRequest) as exc:  # blocked by the user, chat gone: retrying won't help
            SEND_ERRORS.labels(Channel.TELEGRAM).inc()
            log.warning("telegram refused a reply: %s", type(exc).__name__)
            dialogue.delivered(incoming, True)
            return None
        except Exception:
            SEND_ERRORS.labels(Channel.TELEGRAM).inc()
            raise
        MESSAGES_OUT.labels(Channel.TELEGRAM, "reply").inc()
        # Progress after each reply: a crash now resends at most the reply just sent.
        dialogue.delivered(incoming, answer is None and index + 1 == len(to_send))
    if answer is not None:
        MESSAGES_OUT.labels(Channel.TELEGRAM, "reply").inc()
    REPLY_LATENCY.labels(Channel.TELEGRAM).observe(time.perf_counter() - started)
    return answer


def build_application(settings: Settings, dialogue: DialogueEngine, polling: bool) -> Application:  # type: ignore[type-arg]
    assert settings.telegram_token is not None
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token.get_secret_value())
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.telegram_api_url.replace("/bot", "/file/bot"))
        .rate_limiter(AIORateLimiter(overall_max_rate=settings.telegram_max_rate, overall_time_period=1, max_retries=3))
        .request(AiohttpRequest())
        .get_updates_request(AiohttpRequest(connection_pool_size=1, read_timeout=30.0))
        .concurrent_updates(True)
    )
    if not polling:
        builder = builder.updater(None)
    application = builder.build()

    async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await answer_update(context.bot, dialogue, event_from_update(update.to_dict()))

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # The exception only: updates and message texts carry personal data.
        error = context.error
        trace = None if isinstance(error, TelegramError) else error
        log.error("telegram update failed: %s", type(error).__name__, exc_info=trace)

    application.add_handler(TypeHandler(Update, on_update))
    application.add_error_handler(on_error)
    return application


def webhook_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["telegram"])
    expected = settings.telegram_webhook_secret.get_secret_value() if settings.telegram_webhook_secret else ""
    budget = AnswerBudget(settings.telegram_max_rate)

    @router.post("/telegram/webhook", status_code=200)
    async def telegram_webhook(
        request: Request,
        secret: str | None = Header(default=None, alias="X-Telegram-Bot-Api-Secret-Token"),
    ) -> Response:
        if not expected or not hmac.compare_digest((secret or "").encode(), expected.encode()):
            raise HTTPException(status_code=401, detail="invalid secret token")
        application: Application | None = request.app.state.telegram  # type: ignore[type-arg]
        if application is None:
            raise HTTPException(status_code=503, detail="telegram is not enabled in this process")
        try:
            payload = await request.json()
            event = event_from_update(_object(payload, "update"))
        except ValueError as exc:  # not JSON, or not an update (MalformedUpdate)
            raise HTTPException(status_code=400, detail="malformed update") from exc
        try:
            answer = await answer_update(application.bot, request.app.state.dialogue, event, budget)
        except Exception:  # logged here; Telegram retries on a non-200
            log.exception("telegram update not answered; Telegram will deliver it again")
            return Response(status_code=500)
        return JSONResponse(answer) if answer is not None else Response(status_code=200)

    return router
