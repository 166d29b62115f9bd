"""Replies as JSON for the web chat (and the web inbox): the one serialised shape."""

from __future__ import annotations

import base64

from bot.replies import Reply
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
