"""A fake Telegram Bot API at the HTTP boundary: a real server on 127.0.0.1 that checks like Telegram.

python-telegram-bot talks to it through `Settings.telegram_api_url` ("http://127.0.0.1:PORT/bot"),
so the library's real serialisation runs. Accepted calls are recorded for assertions; invalid
ones are answered with Telegram's error shape and recorded separately.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BOT_ID = 7000000001
BOT_USERNAME = "LotseTestBot"
TEXT_LIMIT = 4096  # after entity parsing, in UTF-16 code units
CALLBACK_DATA_LIMIT = 64  # bytes
ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "a", "code", "pre",
     "blockquote", "tg-spoiler", "tg-emoji"}
)
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
ENTITY = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")
ATTRIBUTE = re.compile(r"""\s*([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""")
TAG_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class TelegramError(Exception):
    def __init__(self, description: str, code: int = 400, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.description = description
        self.code = code
        self.parameters = parameters


def _bad(description: str) -> TelegramError:
    return TelegramError(f"Bad Request: {description}")


def _decode_entities(text: str, offset: int) -> str:
    """Telegram's four named entities and numeric ones; anything else is refused."""
    if "&" not in text:
        return text
    out: list[str] = []
    i = 0
    while (amp := text.find("&", i)) != -1:
        out.append(text[i:amp])
        match = ENTITY.match(text, amp)
        if match is None or (match.group(3) is not None and match.group(3) not in NAMED_ENTITIES):
            raise _bad(f"can't parse entities: Unsupported HTML entity at byte offset {offset + amp}")
        if match.group(1) is not None:
            out.append(chr(int(match.group(1))))
        elif match.group(2) is not None:
            out.append(chr(int(match.group(2), 16)))
        else:
            out.append(NAMED_ENTITIES[match.group(3)])
        i = match.end()
    out.append(text[i:])
    return "".join(out)


def parse_html(text: str) -> str:
    """The plain text Telegram would show, or TelegramError with Telegram's wording.

    Byte offsets (for the error messages) are counted only when needed: the load benchmark
    parses every message the bot sends, on the cores the service is measured on."""
    stack: list[str] = []
    plain: list[str] = []
    run_start = 0

    def byte_offset(index: int) -> int:
        return len(text[:index].encode())

    def flush(until: int) -> None:
        run = text[run_start:until]
        plain.append(_decode_entities(run, byte_offset(run_start)) if "&" in run else run)

    while (i := text.find("<", run_start)) != -1:
        flush(i)
        end = text.find(">", i)
        if end == -1:
            raise _bad(f"can't parse entities: Unclosed start tag at byte offset {byte_offset(i)}")
        inner = text[i + 1 : end]
        if inner.startswith("/"):
            name = inner[1:].strip().lower()
            if not stack:
                raise _bad(f"can't parse entities: Unexpected end tag at byte offset {byte_offset(i)}")
            if name and name != stack[-1]:
                raise _bad(
                    f"can't parse entities: Unmatched end tag at byte offset {byte_offset(i)}, "
                    f'expected "</{stack[-1]}>", found "</{name}>"'
                )
            stack.pop()
        else:
            match = TAG_NAME.match(inner)
            if match is None:
                raise _bad(f"can't parse entities: Expected HTML tag name at byte offset {byte_offset(i)}")
            name = match.group(0).lower()
            if name not in ALLOWED_TAGS:
                raise _bad(f'can\'t parse entities: Unsupported start tag "{name}" at byte offset {byte_offset(i)}')
            rest = inner[match.end() :]
            attributes = _attributes(rest, name, byte_offset(i)) if rest.strip() else {}
            if name == "span" and attributes.get("class") != "tg-spoiler":
                raise _bad('can\'t parse entities: Tag "span" must have class "tg-spoiler"')
            if name == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
                raise _bad('can\'t parse entities: Tag "tg-emoji" must have attribute "emoji-id"')
            stack.append(name)
        run_start = end + 1
    flush(len(text))
    if stack:
        raise _bad(f'can\'t parse entities: Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(plain)


def _attributes(rest: str, tag: str, begin: int) -> dict[str, str]:
    found: dict[str, str] = {}
    position = 0
    rest = rest.rstrip()
    while position < len(rest):
        match = ATTRIBUTE.match(rest, position)
        if match is None or match.end() == position:
            raise _bad(f'can\'t parse entities: Expected equal sign in declaration of an attribute of the tag "{tag}" at byte offset {begin}')
        value = next((g for g in match.groups()[1:] if g is not None), "")
        found[match.group(1).lower()] = _decode_entities(value, begin)
        position = match.end()
    return found


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Call:
    """One accepted Bot API call, decoded."""

    method: str
    params: dict[str, Any]
    document: tuple[str, bytes, str] | None = None  # filename, bytes, content type
    result: Any = None  # what the fake answered

    @property
    def shown(self) -> str:
        """The text as Telegram displays it (entities parsed, tags gone)."""
        return str(self.result.get("text", "")) if isinstance(self.result, dict) else ""

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None and str(value).lstrip("-").isdigit() else None

    @property
    def text(self) -> str | None:
        value = self.params.get("text")
        return str(value) if value is not None else None

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        return self.params.get("reply_markup")

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data) of every inline button, row by row."""
        markup = self.reply_markup or {}
        return [
            (b.get("text", ""), b.get("callback_data", ""))
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]


@dataclass
class FakeTelegram:
    """The fake server; use as a context manager or call start()/stop()."""

    token: str = "123456:TEST-fake-token_abcdefghijklmnopqrstu"
    calls: list[Call] = field(default_factory=list)
    rejected: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    webhook_url: str | None = None
    _pending_429: int = 0
    _retry_after: int = 1
    _pending_errors: list[tuple[int, str]] = field(default_factory=list)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _message_ids: dict[int, int] = field(default_factory=dict)
    _answered: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    port: int = 0

    # ---- test-facing API -------------------------------------------------------------
    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def answer_429(self, times: int, retry_after: int = 1) -> None:
        """The next `times` calls get 429 Too Many Requests with retry_after."""
        with self._lock:
            self._pending_429 = times
            self._retry_after = retry_after

    def answer_error(self, times: int, code: int = 502, description: str = "Bad Gateway") -> None:
        """The next `times` calls fail with this HTTP error (Telegram having a bad moment)."""
        with self._lock:
            self._pending_errors.extend([(code, description)] * times)

    def queue_update(self, update: dict[str, Any]) -> None:
        with self._lock:
            self._updates.append(update)

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()
            self.rejected.clear()

    def sent(self, chat_id: int | None = None, method: str | None = None) -> list[Call]:
        with self._lock:
            return [
                c for c in self.calls
                if (chat_id is None or c.chat_id == chat_id) and (method is None or c.method == method)
            ]

    def messages(self, chat_id: int) -> list[Call]:
        return self.sent(chat_id, "sendMessage")

    def webhook_answer(self, body: bytes) -> None:
        """What Telegram does with the HTTP answer to a webhook delivery: a JSON object with a
        "method" is run like a Bot API call (its result goes nowhere; a refusal only shows in
        `rejected`). An empty answer is just an acknowledgement."""
        if not body:
            return
        params = json.loads(body)
        if not isinstance(params, dict) or "method" not in params:
            return
        method = str(params.pop("method"))
        handler = getattr(self, "_m_" + method.lower(), None)
        with self._lock:
            if handler is None or method.lower() in ("getupdates", "senddocument"):
                self.rejected.append((method, params, "not allowed in a webhook answer"))
                return
            try:
                result = handler(params, None)
            except TelegramError as exc:
                self.rejected.append((method, params, exc.description))
                return
            self.calls.append(Call(method, params, None, result))

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.02)
        return predicate()

    # ---- server ---------------------------------------------------------------------
    def start(self) -> Self:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        app = Starlette(routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])])
        config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake Telegram did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    async def _endpoint(self, request: Request) -> JSONResponse:
        token = request.path_params["token"]
        method = request.path_params["method"]
        if token != self.token:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        params, document = await _read_params(request)
        handler = getattr(self, "_m_" + method.lower(), None)
        if handler is None:
            return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        with self._lock:
            if self._pending_errors and method.lower() != "getupdates":
                code, description = self._pending_errors.pop(0)
                self.rejected.append((method, params, str(code)))
                return JSONResponse({"ok": False, "error_code": code, "description": description}, code)
            if self._pending_429 > 0:
                self._pending_429 -= 1
                retry = self._retry_after
                self.rejected.append((method, params, "429"))
                return JSONResponse(
                    {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {retry}",
                     "parameters": {"retry_after": retry}},
                    429,
                )
        try:
            if method.lower() == "getupdates":
                result = await self._get_updates(params)
            else:
                with self._lock:
                    result = handler(params, document)
                    self.calls.append(Call(method, params, document, result))
        except TelegramError as exc:
            with self._lock:
                self.rejected.append((method, params, exc.description))
            body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.parameters:
                body["parameters"] = exc.parameters
            return JSONResponse(body, exc.code)
        return JSONResponse({"ok": True, "result": result})

    # ---- methods --------------------------------------------------------------------
    def _bot_user(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Lotse", "username": BOT_USERNAME}

    def _m_getme(self, params: dict[str, Any], _: object) -> dict[str, Any]:
        return {**self._bot_user(), "can_join_groups": False, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False, "has_main_web_app": False}

    def _chat(self, params: dict[str, Any]) -> int:
        value = params.get("chat_id")
        if value is None or value == "":
            raise _bad("chat_id is empty")
        if not str(value).lstrip("-").isdigit():
            raise _bad("chat not found")
        return int(value)

    def _message(self, chat_id: int, **extra: Any) -> dict[str, Any]:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return {
            "message_id": self._message_ids[chat_id],
            "from": self._bot_user(),
            "chat": {"id": chat_id, "type": "private", "first_name": "Test"},
            "date": int(time.time()),
            **extra,
        }

    def _check_markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return markup
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays")
        for row in rows:
            for button in row:
                if not str(button.get("text", "")).strip():
                    raise _bad("BUTTON_TEXT_INVALID")
                data = button.get("callback_data")
                if data is not None:
                    if not 1 <= len(str(data).encode("utf-8")) <= CALLBACK_DATA_LIMIT:
                        raise _bad("BUTTON_DATA_INVALID")
                elif not any(k in button for k in ("url", "web_app", "switch_inline_query", "login_url", "pay")):
                    raise _bad("text buttons are unallowed in the inline keyboard")
        return markup

    def _m_sendmessage(self, params: dict[str, Any], _: object) -> dict[str, Any]:
        chat_id = self._chat(params)
        text = params.get("text")
        if text is None or text == "":
            raise _bad("message text is empty")
        text = str(text)
        mode = params.get("parse_mode")
        if mode is None or mode == "":
            plain = text
        elif str(mode).lower() == "html":
            plain = parse_html(text)
        else:
            raise _bad("unsupported parse_mode")
        if not plain.strip():
            raise _bad("message text is empty")
        if utf16_length(plain) > TEXT_LIMIT:
            raise _bad("message is too long")
        markup = self._check_markup(params)
        return self._message(chat_id, text=plain, **({"reply_markup": markup} if markup else {}))

    def _m_senddocument(self, params: dict[str, Any], document: tuple[str, bytes, str] | None) -> dict[str, Any]:
        chat_id = self._chat(params)
        if document is None:
            raise _bad("there is no document in the request")
        caption = params.get("caption")
        if caption is not None and params.get("parse_mode"):
            parse_html(str(caption))
        filename, data, mime = document
        return self._message(chat_id, document={
            "file_id": f"BQAC{len(self.calls):08d}", "file_unique_id": f"AgAD{len(self.calls):06d}",
            "file_name": filename, "mime_type": mime, "file_size": len(data),
        })

    def _m_answercallbackquery(self, params: dict[str, Any], _: object) -> bool:
        query_id = params.get("callback_query_id")
        if not query_id:
            raise _bad("query_id is empty")
        if str(query_id) in self._answered:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        self._answered.add(str(query_id))
        return True

    def _m_editmessagereplymarkup(self, params: dict[str, Any], _: object) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            return True
        chat_id = self._chat(params)
        if not str(params.get("message_id", "")).isdigit():
            raise _bad("message to edit not found")
        markup = self._check_markup(params)
        message = self._message(chat_id, text="…")
        message["message_id"] = int(params["message_id"])
        if markup:
            message["reply_markup"] = markup
        return message

    def _m_setwebhook(self, params: dict[str, Any], _: object) -> bool:
        url = str(params.get("url") or "")
        if not url.startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not SECRET_TOKEN.match(str(secret)):
            raise _bad("secret token contains unallowed characters")
        self.webhook_url = url
        return True

    def _m_deletewebhook(self, params: dict[str, Any], _: object) -> bool:
        self.webhook_url = None
        if str(params.get("drop_pending_updates", "")).lower() == "true":
            self._updates.clear()
        return True

    def _m_getupdates(self, params: dict[str, Any], _: object) -> list[dict[str, Any]]:
        raise AssertionError("handled asynchronously")

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        with self._lock:
            if self.webhook_url:
                raise TelegramError(
                    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
                    409,
                )
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        hold = min(float(params.get("timeout") or 0), 0.5)
        deadline = time.monotonic() + hold
        while True:
            with self._lock:
                if offset:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = self._updates[:limit]
                if ready or time.monotonic() >= deadline:
                    self.calls.append(Call("getUpdates", params, result=ready))
                    return ready
            await asyncio.sleep(0.02)


async def _read_params(request: Request) -> tuple[dict[str, Any], tuple[str, bytes, str] | None]:
    """Telegram accepts query strings, JSON, urlencoded and multipart; nested values are JSON."""
    params: dict[str, Any] = dict(request.query_params)
    document = None
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        body = await request.body()
        if body:
            params.update(json.loads(body))
        return params, None
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        uploads: dict[str, tuple[str, bytes, str]] = {}
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                uploads[key] = (value.filename or key, await value.read(), value.content_type or "")
            else:
                params[key] = _maybe_json(value)
        for key, upload in uploads.items():
            if key == "document":
                document = upload
        attach = params.get("document")
        if isinstance(attach, str) and attach.startswith("attach://"):
            document = uploads.get(attach.removeprefix("attach://"))
    return params, document


def _maybe_json(value: str) -> Any:
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# ---- update factories (what Telegram would POST to the webhook) -------------------------
_update_ids = iter(range(10_000, 10_000_000))


def next_update_id() -> int:
    return next(_update_ids)


def _user(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "Newcomer", "language_code": "ar"}


def message_update(chat_id: int, text: str, update_id: int | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": 1,
        "from": _user(chat_id),
        "chat": {"id": chat_id, "type": "private", "first_name": "Newcomer"},
        "date": int(time.time()),
        "text": text,
    }
    if text.startswith("/"):
        command = text.split(" ", 1)[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_length(command)}]
    return {"update_id": update_id or next_update_id(), "message": message}


def callback_update(chat_id: int, data: str, update_id: int | None = None) -> dict[str, Any]:
    uid = update_id or next_update_id()
    return {
        "update_id": uid,
        "callback_query": {
            "id": f"cq{uid}",
            "from": _user(chat_id),
            "chat_instance": f"ci{chat_id}",
            "data": data,
            "message": {
                "message_id": 1,
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Lotse", "username": BOT_USERNAME},
                "chat": {"id": chat_id, "type": "private", "first_name": "Newcomer"},
                "date": int(time.time()),
                "text": "…",
            },
        },
    }
