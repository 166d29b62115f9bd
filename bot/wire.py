"""Replies as JSON for the web chat (and the web inbox): the one serialised shape."""

from __future__ import annotations

import base64
from typing import Any

from bot.replies import Attachment, Button, ContactView, Reply
from core.language import direction


def reply_to_json(reply: Reply) -> dict[str, object]:
    return {
        "title": reply.title,
        "text": reply.text,
        "language": reply.language,
        "dir": direction(reply.language),
        "urgent": reply.urgent,
        "contacts": [
            {
                "name": c.name,
                "address": c.address,
                "map_url": c.map_url,
                "phone": c.phone,
                "tel_url": c.tel_url,
                "email": c.email,
                "website": c.website,
                "booking_url": c.booking_url,
                "opening_hours": list(c.opening_hours),
                "appointment_only": c.appointment_only,
                "verified": c.verified,
            }
            for c in reply.contacts
        ],
        "checklist_title": reply.checklist_title,
        "checklist": reply.checklist,
        "notes": reply.notes,
        "links": [{"label": label, "url": url} for label, url in reply.links],
        "buttons": [[{"label": b.label, "action": b.action} for b in row] for row in reply.buttons],
        "attachment": (
            {
                "filename": reply.attachment.filename,
                "mime_type": reply.attachment.mime_type,
                "data_base64": base64.b64encode(reply.attachment.data).decode(),
            }
            if reply.attachment
            else None
        ),
    }


def reply_from_json(data: dict[str, Any]) -> Reply:
    """The inverse of reply_to_json (used for the kept copy of a turn's replies)."""
    attachment = data.get("attachment")
    return Reply(
        text=data["text"],
        language=data["language"],
        title=data.get("title"),
        contacts=[
            ContactView(
                name=c["name"],
                address=c.get("address"),
                map_url=c.get("map_url"),
                phone=c.get("phone"),
                email=c.get("email"),
                website=c.get("website"),
                booking_url=c.get("booking_url"),
                opening_hours=tuple(c.get("opening_hours") or ()),
                appointment_only=bool(c.get("appointment_only")),
                verified=bool(c.get("verified")),
            )
            for c in data.get("contacts") or []
        ],
        checklist=list(data.get("checklist") or []),
        checklist_title=data.get("checklist_title"),
        notes=list(data.get("notes") or []),
        links=[(link["label"], link["url"]) for link in data.get("links") or []],
        buttons=[[Button(b["label"], b["action"]) for b in row] for row in data.get("buttons") or []],
        attachment=(
            Attachment(attachment["filename"], attachment["mime_type"], base64.b64decode(attachment["data_base64"]))
            if attachment
            else None
        ),
        urgent=bool(data.get("urgent")),
    )
