"""Data rights from the chat: what is stored, an export, and deletion that really deletes."""

from __future__ import annotations

import json

from sqlmodel import select

from bot.flows.dispatch import Handler
from bot.replies import Attachment
from bot.turn import Turn
from core.booking import Booking
from core.consent import ConsentRecord
from core.handoff import HandoffRequest
from core.municipality import Team
from core.outbox import OutboxKind, enqueue
from core.clock import utcnow
from core.retention import delete_person


def show_privacy(turn: Turn, _: str) -> None:
    person_id = turn.person.id
    bookings = turn.session.exec(select(Booking).where(Booking.person_id == person_id)).all()
    consents = turn.session.exec(select(ConsentRecord).where(ConsentRecord.person_id == person_id)).all()
    stored = turn.t(
        "privacy.stored",
        consents=len(consents),
        bookings=len(bookings),
    ) if turn.person.consented_at else turn.t("privacy.nothing_stored")
    turn.say(
        "\n\n".join([turn.t("privacy.info"), stored]),
        [
            [turn.button("privacy.export", "privacy:export")],
            [turn.button("privacy.delete", "cmd:delete")],
            [turn.button("button.menu", "menu")],
        ],
        title=turn.t("button.privacy"),
    )


def export_data(turn: Turn, _: str) -> None:
    cipher = turn.services.cipher
    person = turn.person
    data = {
        "pseudonym": person.pseudonym,
        "language": person.language,
        "created_at": person.created_at.isoformat(),
        "consented_at": person.consented_at.isoformat() if person.consented_at else None,
        "name": cipher.decrypt(person.display_name_enc),
        "phone": cipher.decrypt(person.phone_enc),
        "consents": [
            {"kind": c.kind, "version": c.version, "language": c.language, "given_at": c.given_at.isoformat(),
             "withdrawn_at": c.withdrawn_at.isoformat() if c.withdrawn_at else None, "recipients": c.recipients}
            for c in turn.session.exec(select(ConsentRecord).where(ConsentRecord.person_id == person.id))
        ],
        "bookings": [
            {"reference": b.reference, "team": (turn.session.get(Team, b.team_id) or Team()).name,
             "starts_at": b.starts_at.isoformat(), "status": b.status, "name": cipher.decrypt(b.display_name_enc),
             "phone": cipher.decrypt(b.phone_enc), "own_words": cipher.decrypt(b.own_words_enc),
             "interpreter_language": b.interpreter_language, "children_involved": b.children_involved}
            for b in turn.session.exec(select(Booking).where(Booking.person_id == person.id))
        ],
        "handoffs": [
            {"created_at": h.created_at.isoformat(), "status": h.status, "question": cipher.decrypt(h.question_enc),
             "reply": cipher.decrypt(h.reply_enc)}
            for h in turn.session.exec(select(HandoffRequest).where(HandoffRequest.person_id == person.id))
        ],
    }
    payload = json.dumps(data, ensure_ascii=False, indent=2).encode()
    turn.say(turn.t("privacy.export_ready"), attachment=Attachment("lotse-my-data.json", "application/json", payload))


def confirm_delete(turn: Turn, _: str) -> None:
    turn.say(
        turn.t("privacy.delete_confirm"),
        [[turn.button("privacy.delete_yes", "privacy:delete"), turn.button("button.cancel", "menu")]],
    )


def delete_everything(turn: Turn, _: str) -> None:
    cancelled = delete_person(turn.session, turn.person)
    for booking in cancelled:
        enqueue(turn.session, OutboxKind.WEBHOOK, f"webhook:intake.cancelled:{booking.id}:deleted", utcnow(),
                booking_id=booking.id, event="intake.cancelled", team_id=booking.team_id)
    turn.say(turn.t("privacy.deleted"))
    turn.conversation = None  # type: ignore[assignment]


ACTIONS: dict[str, Handler] = {
    "privacy": lambda turn, arg: {"export": export_data, "delete": delete_everything}.get(arg, show_privacy)(turn, ""),
}
