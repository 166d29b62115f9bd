"""Replies as Telegram HTML: everything escaped, split under the 4096-character limit."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.replies import ContactView, Reply

LIMIT = 4096
SAFE_LIMIT = 3900


def _contact(contact: ContactView) -> str:
    lines = [f"<b>{escape(contact.name)}</b>"]
    if contact.address:
        address = escape(contact.address)
        lines.append(f'<a href="{escape(contact.map_url)}">{address}</a>' if contact.map_url else address)
    if contact.phone:
        lines.append(f"☎ {escape(contact.phone)}")
    if contact.email:
        lines.append(escape(contact.email))
    if contact.opening_hours:
        lines.append(escape("; ".join(contact.opening_hours)))
    if contact.website:
        lines.append(f'<a href="{escape(contact.website)}">{escape(contact.website)}</a>')
    if contact.booking_url:
        lines.append(f'<a href="{escape(contact.booking_url)}">{escape(contact.booking_url)}</a>')
    return "\n".join(lines)


def _pieces(text: str, limit: int) -> list[str]:
    """Split raw text at paragraph, line or word boundaries so each escaped piece fits."""
    if len(escape(text)) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for word in text.replace("\n", " \n ").split(" "):
        candidate = f"{current} {word}" if current else word
        if len(escape(candidate)) > limit and current:
            pieces.append(current.replace(" \n ", "\n").strip())
            current = word
        else:
            current = candidate
    if current.strip():
        pieces.append(current.replace(" \n ", "\n").strip())
    return pieces


def render_html(reply: Reply) -> list[str]:
    """Message texts in order; markup never spans two messages."""
    blocks: list[str] = []
    if reply.title:
        blocks.append(f"<b>{escape(reply.title)}</b>")
    blocks.extend(escape(piece) for piece in _pieces(reply.text, SAFE_LIMIT))
    blocks.extend(_contact(c) for c in reply.contacts)
    if reply.checklist:
        head = f"<b>{escape(reply.checklist_title)}</b>\n" if reply.checklist_title else ""
        blocks.append(head + "\n".join(f"• {escape(item)}" for item in reply.checklist))
    blocks.extend(f'<a href="{escape(url)}">{escape(label)}</a>' for label, url in reply.links)
    blocks.extend(f"<i>{escape(note)}</i>" for note in reply.notes)
    messages: list[str] = []
    current = ""
    for block in blocks:
        candidate = f"{current}\n\n{block}" if current else block
        if len(candidate) > SAFE_LIMIT and current:
            messages.append(current)
            current = block
        else:
            current = candidate
    if current:
        messages.append(current)
    return messages


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label[:64], callback_data=b.action[:64]) for b in row] for row in reply.buttons]
    )
