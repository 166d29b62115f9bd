"""Turns curated content into a reply: text, structured contacts, checklist, honest notes."""

from __future__ import annotations

from urllib.parse import quote_plus

from bot.replies import Button, ContactView, Reply
from bot.turn import Turn
from content.library import Answer
from content.schema import Contact
from core.municipality import Team


def contact_view(contact: Contact) -> ContactView:
    return ContactView(
        name=contact.name,
        address=contact.address,
        map_url=(
            f"https://www.openstreetmap.org/search?query={quote_plus(contact.address)}"
            if contact.address
            else None
        ),
        phone=contact.phone,
        email=contact.email,
        website=str(contact.website) if contact.website else None,
        booking_url=str(contact.booking_url) if contact.booking_url else None,
        opening_hours=tuple(contact.opening_hours),
        appointment_only=contact.appointment_only,
        verified=contact.verified,
    )


def team_contact(team: Team) -> ContactView:
    """A team's public contact data as shown to newcomers (never more than it publishes)."""
    return ContactView(
        name=f"{team.name} ({team.organisation})",
        address=team.address,
        map_url=(
            f"https://www.openstreetmap.org/search?query={quote_plus(team.address)}"
            if team.address
            else None
        ),
        phone=team.phone,
        email=team.email,
        website=team.website,
        opening_hours=tuple(team.office_hours),
        verified=team.verified,
    )


def answer_reply(turn: Turn, answer: Answer) -> Reply:
    notes: list[str] = []
    if answer.language_fallback:
        notes.append(turn.t("answer.language_fallback", language=answer.language))
    if answer.general_fallback:
        notes.append(turn.t("answer.general_fallback"))
    if not answer.verified:
        notes.append(turn.t("answer.unverified"))
    if answer.status == "machine":
        notes.append(turn.t("answer.machine_translated"))
    related = [
        Button(turn.t(f"intent.{topic}"), f"topic:{topic}") for topic in answer.related[:3]
    ]
    if answer.topic == "emergency":
        buttons = [[turn.button("button.person", "handoff"), turn.button("button.menu", "menu")]]
    else:
        buttons = _next_steps(turn, answer, related)
    return Reply(
        text=answer.text,
        language=answer.language,
        title=turn.t(f"intent.{answer.topic}"),
        contacts=[contact_view(c) for c in answer.contacts],
        checklist=list(answer.checklist),
        checklist_title=turn.t("answer.checklist") if answer.checklist else None,
        notes=notes,
        links=[(s.title or str(s.url), str(s.url)) for s in answer.sources[:2]],
        buttons=buttons,
        urgent=answer.topic == "emergency",
    )


def _next_steps(turn: Turn, answer: Answer, related: list[Button]) -> list[list[Button]]:
    return [
        [turn.button("button.book", "book"), turn.button("button.person", "handoff")],
        *([related[i : i + 2] for i in range(0, len(related), 2)]),
        [turn.button("button.helpful_yes", f"helpful:yes:{answer.topic}"),
         turn.button("button.helpful_no", f"helpful:no:{answer.topic}")],
    ]
