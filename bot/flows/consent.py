"""Consent in tiers: a short summary, the full text, the binding German text; explicit yes/no."""

from __future__ import annotations

from bot.flows.dispatch import Handler
from bot.turn import Turn
from core.clock import utcnow
from core.consent import ConsentKind, current_text, record_consent
from core.municipality import Team, ancestry


def _text_for(turn: Turn, kind: ConsentKind):  # type: ignore[no-untyped-def]
    municipality = turn.municipality
    chain = [m.id for m in ancestry(turn.session, municipality) if m.id] if municipality else []
    return current_text(turn.session, kind, turn.language, chain)


def _values(turn: Turn, team: Team) -> dict[str, str]:
    settings = turn.services.settings
    return {
        "team": team.name,
        "organisation": team.organisation,
        "retention_days": str(settings.retention_closed_intake_days),
        "recipients": str(turn.conversation.context.get("release_recipients", "")),
    }


def ask_consent(turn: Turn, kind: ConsentKind, team: Team, purpose: str) -> None:
    """Show the summary with buttons; `purpose` says which flow continues after 'I agree'."""
    turn.remember(consent_kind=kind.value, consent_team=team.id, consent_purpose=purpose)
    text = _text_for(turn, kind)
    summary, _, _ = text.render(**_values(turn, team))
    turn.goto("consent")
    turn.say(
        summary,
        [
            [turn.button("consent.full", "consent:full"), turn.button("consent.binding", "consent:binding")],
            [turn.button("consent.yes", "consent:yes"), turn.button("consent.no", "consent:no")],
        ],
        title=turn.t(f"consent.title.{kind.value}"),
    )


def on_consent(turn: Turn, choice: str) -> None:
    context = turn.conversation.context
    kind_value = context.get("consent_kind")
    team_id = context.get("consent_team")
    if turn.conversation.state != "consent" or not isinstance(kind_value, str) or not isinstance(team_id, int):
        turn.say(turn.t("consent.expired"), [[turn.button("button.menu", "menu")]])
        return
    kind = ConsentKind(kind_value)
    team = turn.session.get(Team, team_id)
    assert team is not None
    text = _text_for(turn, kind)
    summary, full, binding = text.render(**_values(turn, team))
    buttons = [[turn.button("consent.yes", "consent:yes"), turn.button("consent.no", "consent:no")]]
    if choice == "full":
        turn.say(full, buttons)
    elif choice == "binding":
        turn.say(binding, buttons, title="Verbindlicher Text (Deutsch)")
    elif choice == "yes":
        assert turn.person.id is not None
        recipients = [r for r in str(context.get("release_recipients", "")).split("; ") if r] if kind is ConsentKind.CONFIDENTIALITY_RELEASE else [team.name]
        record = record_consent(
            turn.session, turn.person.id, text, turn.incoming.channel,
            shown="\n\n".join([summary, full, binding]), recipients=recipients,
        )
        ids = list(context.get("consent_records", []))  # type: ignore[call-overload]
        turn.remember(consent_records=[*ids, record.id])
        if kind is ConsentKind.DATA_PROTECTION:
            turn.person.consented_at = turn.person.consented_at or utcnow()
            turn.session.add(turn.person)
        _continue(turn, agreed=True)
    else:
        _continue(turn, agreed=False)


def _continue(turn: Turn, agreed: bool) -> None:
    purpose = str(turn.conversation.context.get("consent_purpose", ""))
    turn.forget("consent_kind", "consent_purpose")
    turn.goto("ready")
    if purpose.startswith("handoff"):
        from bot.flows import handoff

        handoff.after_consent(turn, agreed)
    else:
        from bot.flows import booking

        booking.after_consent(turn, purpose, agreed)


ACTIONS: dict[str, Handler] = {"consent": on_consent}
