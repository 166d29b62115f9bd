"""Replies as Telegram HTML: everything escaped, split under the 4096-character limit."""

from __future__ import annotations

import logging
import re
from html import escape, unescape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.replies import ContactView, Reply

log = logging.getLogger(__name__)
LIMIT = 4096  # Telegram's limit on the parsed text, counted in UTF-16 code units
SAFE_LIMIT = 3900  # applied to the HTML source, which is never shorter than the parsed text
CALLBACK_DATA_BYTES = 64
TOKENS = re.compile(r"\S+|\s+")

Line = str  # an HTML fragment with balanced tags that fits into one message on its own
Block = list[Line]  # lines shown together (joined by newlines) when they fit


def size(html: str) -> int:
    """Length as Telegram counts it (UTF-16 code units): emoji count twice."""
    return len(html.encode("utf-16-le")) // 2


def _hard_split(word: str, limit: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for char in word:
        if current and size(escape(current + char)) > limit:
            pieces.append(current)
            current = ""
        current += char
    return [*pieces, current] if current else pieces


def split_plain(text: str, limit: int) -> list[str]:
    """Raw text in pieces whose escaped form fits `limit`: at line or word ends, else mid-word."""
    text = text.strip()
    if size(escape(text)) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    current = ""
    for token in TOKENS.findall(text):
        if not token.isspace() and size(escape(token)) > limit:
            for chunk in _hard_split(token, limit):
                pieces, current = _append(pieces, current, chunk, limit)
            continue
        pieces, current = _append(pieces, current, token, limit)
    if current.strip():
        pieces.append(current.strip())
    return pieces


def _append(pieces: list[str], current: str, token: str, limit: int) -> tuple[list[str], str]:
    if size(escape(current + token)) <= limit:
        return pieces, current + token
    if current.strip():
        pieces.append(current.strip())
    return pieces, "" if token.isspace() else token


def _wrapped(text: str, tag: str | None = None, prefix: str = "") -> list[Line]:
    """Escaped text as lines, each wrapped in `tag` (closed on the same line)."""
    room = SAFE_LIMIT - len(prefix) - (2 * len(tag) + 5 if tag else 0)
    return [f"{prefix}<{tag}>{escape(p)}</{tag}>" if tag else prefix + escape(p) for p in split_plain(text, room)]


def _link(url: str, label: str) -> list[Line]:
    line = f'<a href="{escape(url)}">{escape(label)}</a>'
    return [line] if size(line) <= SAFE_LIMIT else _wrapped(label)


def _contact(contact: ContactView) -> Block:
    lines = _wrapped(contact.name, "b")
    if contact.address:
        lines += _link(contact.map_url, contact.address) if contact.map_url else _wrapped(contact.address)
    if contact.phone:
        lines += _wrapped(contact.phone, prefix="☎ ")
    if contact.email:
        lines += _wrapped(contact.email)
    if contact.opening_hours:
        lines += _wrapped("; ".join(contact.opening_hours))
    if contact.website:
        lines += _link(contact.website, contact.website)
    if contact.booking_url:
        lines += _link(contact.booking_url, contact.booking_url)
    return lines


def _blocks(reply: Reply) -> list[Block]:
    blocks: list[Block] = []
    if reply.title:
        blocks.append(_wrapped(reply.title, "b"))
    blocks.extend([piece] for piece in _wrapped(reply.text))
    blocks.extend(_contact(c) for c in reply.contacts)
    if reply.checklist:
        head = _wrapped(reply.checklist_title, "b") if reply.checklist_title else []
        blocks.append(head + [line for item in reply.checklist for line in _wrapped(item, prefix="• ")])
    blocks.extend(_link(url, label) for label, url in reply.links)
    blocks.extend(_wrapped(note, "i") for note in reply.notes)
    return [block for block in blocks if block]


def render_html(reply: Reply) -> list[str]:
    """Message texts in order; markup never spans two messages, none is empty or too long."""
    messages: list[str] = []
    current = ""
    for block in _blocks(reply):
        joined = "\n".join(block)
        if size(joined) <= SAFE_LIMIT:
            candidate = f"{current}\n\n{joined}" if current else joined
            if size(candidate) <= SAFE_LIMIT:
                current = candidate
            else:
                messages.append(current)
                current = joined
            continue
        for index, line in enumerate(block):  # a block too long for one message goes by lines
            separator = "\n\n" if index == 0 else "\n"
            candidate = f"{current}{separator}{line}" if current else line
            if size(candidate) <= SAFE_LIMIT:
                current = candidate
            else:
                messages.append(current)
                current = line
    if current:
        messages.append(current)
    if not messages and reply.buttons:
        messages.append("…")  # buttons need a message to hang on
    return messages


def plain_text(html: str) -> str:
    """A fallback without markup, for the unexpected case that Telegram refuses our HTML."""
    return unescape(re.sub(r"<[^>]*>", "", html))[:LIMIT] or "…"


def callback_data(action: str) -> str:
    """The action as Telegram accepts it: 1–64 bytes of UTF-8."""
    encoded = action.encode("utf-8")
    if len(encoded) <= CALLBACK_DATA_BYTES and encoded:
        return action
    if encoded:
        log.warning("callback data truncated action=%s", action.partition(":")[0])
    return encoded[:CALLBACK_DATA_BYTES].decode("utf-8", errors="ignore") or "menu"


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    rows = _button_rows(reply)
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows])


def keyboard_json(reply: Reply) -> dict[str, object] | None:
    """The same keyboard as Bot API JSON, for a webhook answer (no objects to build)."""
    rows = _button_rows(reply)
    if not rows:
        return None
    return {"inline_keyboard": [[{"text": text, "callback_data": data} for text, data in row] for row in rows]}


def _button_rows(reply: Reply) -> list[list[tuple[str, str]]]:
    return [[(b.label[:64] or "…", callback_data(b.action)) for b in row] for row in reply.buttons if row]
