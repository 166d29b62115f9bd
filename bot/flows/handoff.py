"""'Talk to a person': a request to the responsible team, answered in this chat."""

from __future__ import annotations

from bot.answers import team_contact
from bot.flows.consent import ask_consent
from bot.flows.dispatch import Handler, TextHandler
from bot.turn import Turn
from core.audit import audit
from core.consent import ConsentKind
from core.handoff import HandoffRequest
from core.municipality import Team
from core.person import remember_address
from core.routing import default_team
from core.webhook import announce_handoff


def start_handoff(turn: Turn, _: str) -> None:
    municipality = turn.municipality
    team = default_team(turn.session, municipality) if municipality else None
    if team is None:
        turn.say(turn.t("handoff.no_team"), [[turn.button("button.menu", "menu")]])
        return
    turn.remember(handoff_team=team.id)
    if turn.person.consented_at is None:
        ask_consent(turn, ConsentKind.DATA_PROTECTION, team, "handoff")
        return
    _ask_question(turn, team)


def _ask_question(turn: Turn, team: Team) -> None:
    turn.goto("handoff_question")
    turn.say(turn.t("handoff.ask_question", team=team.name), [[turn.button("button.cancel", "menu")]])


def after_consent(turn: Turn, agreed: bool) -> None:
    team_id = turn.conversation.context.get("handoff_team")
    team = turn.session.get(Team, team_id) if isinstance(team_id, int) else None
    if not agreed or team is None:
        turn.say(turn.t("handoff.without_consent"), contacts=[team_contact(team)] if team else [])
        return
    _ask_question(turn, team)


def on_question_text(turn: Turn, text: str) -> None:
    team_id = turn.conversation.context.get("handoff_team")
    team = turn.session.get(Team, team_id) if isinstance(team_id, int) else None
    if team is None or turn.person.consented_at is None:
        turn.goto("ready")
        start_handoff(turn, "")
        return
    cipher = turn.services.cipher
    remember_address(turn.identity, cipher, turn.incoming.external_id)
    turn.session.add(turn.identity)
    request = HandoffRequest(
        person_id=turn.person.id,
        conversation_id=turn.conversation.id,
        team_id=team.id,  # type: ignore[arg-type]
        language=turn.language,
        topic=str(turn.conversation.context.get("last_topic") or "") or None,
        question_enc=cipher.encrypt(text[:2000]),
    )
    turn.session.add(request)
    turn.session.flush()
    announce_handoff(turn.session, request)
    audit(turn.session, f"person:{turn.person.pseudonym}", "handoff.created", "handoff", request.id, team=team.slug)
    turn.goto("ready")
    hours = ", ".join(team.office_hours) if team.office_hours else turn.t("handoff.hours_unknown")
    turn.say(
        turn.t("handoff.sent", team=team.name, hours=hours),
        [[turn.button("button.menu", "menu")]],
    )


ACTIONS: dict[str, Handler] = {"handoff": start_handoff}
TEXT_STATES: dict[str, TextHandler] = {"handoff_question": on_question_text}
