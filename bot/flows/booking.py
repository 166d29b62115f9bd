"""Booking a first counselling appointment: routing, consent, minimal data, a slot, reminders."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from itertools import groupby

from sqlmodel import select

from bot.answers import team_contact
from bot.dates import day_label, time_label, when_label
from bot.flows.consent import ask_consent
from bot.flows.dispatch import Handler, TextHandler
from bot.replies import Attachment, Button
from bot.turn import Turn
from core.availability import team_timezone
from core.booking import Booking, BookingStatus, active_booking, free_slots
from core.calendar import booking_ics
from core.consent import ConsentKind
from core.errors import DuplicateIntake, SlotTaken
from core.intake import accept_hold, cancel_by_person, create_intake, join_waitlist
from core.language import NATIVE_NAMES
from core.municipality import Municipality, Team, children
from core.person import remember_address
from core.routing import Outcome, Pending, Route, route

DAYS_PER_PAGE = 3
SLOTS_PER_DAY = 4
PERSONAL_KEYS = ("b_name", "b_phone", "b_words")


def on_booking_intent(turn: Turn, intent: str) -> None:
    {
        "book_appointment": start_booking,
        "appointment_status": show_status,
        "cancel_appointment": ask_cancel,
        "reschedule_appointment": start_reschedule,
    }[intent](turn, "")


def start_booking(turn: Turn, _: str) -> None:
    if turn.municipality is None:
        from bot.flows import start

        start.ask_place(turn, "")
        return
    existing = active_booking(turn.session, turn.person.id) if turn.person.id else None
    if existing is not None and existing.status != BookingStatus.HELD:
        show_status(turn, "")
        return
    turn.forget("routing", "b_team", "reschedule", *PERSONAL_KEYS)
    turn.say(
        turn.t("booking.explain"),
        [[turn.button("button.continue", "book:go"), turn.button("button.back", "menu")]],
        title=turn.t("button.book"),
    )


def _routing_step(turn: Turn) -> None:
    municipality = turn.municipality
    assert municipality is not None
    answers = dict(turn.conversation.context.get("routing", {}))  # type: ignore[call-overload]
    topic = turn.conversation.context.get("last_topic")
    result = route(turn.session, municipality, answers, topic if isinstance(topic, str) else None)
    if isinstance(result, Pending):
        rows = [
            [Button(turn.t(f"routing.{result.criterion}.{value}"), f"book:answer:{result.criterion}={value}")]
            for value in result.values
        ]
        turn.say(turn.t(f"routing.q.{result.criterion}"), rows)
        return
    if result is None or result.outcome is Outcome.REFER:
        _refer(turn, result)
        return
    if result.outcome is Outcome.ASK_TOWN:
        towns = children(turn.session, result.municipality)
        rows = [[Button(t.name, f"book:town:{t.slug}")] for t in towns]
        turn.say(turn.t("booking.ask_town", place=result.municipality.name), rows)
        return
    _team_found(turn, result)


def _refer(turn: Turn, result: Route | None) -> None:
    team = result.team if result is not None else None
    turn.say(turn.t("booking.refer"), contacts=[team_contact(team)] if team else [])
    from bot.flows import topics

    topics.answer_topic(turn, "counselling_services")


def _team_found(turn: Turn, result: Route) -> None:
    team = result.team
    assert team is not None and team.id is not None
    turn.remember(b_team=team.id)
    offer = turn.t(f"booking.offer.{result.offer.value}") if result.offer else ""
    turn.say(turn.t("booking.team", team=team.name, organisation=team.organisation) + ("\n\n" + offer if offer else ""))
    if turn.person.consented_at is None:
        ask_consent(turn, ConsentKind.DATA_PROTECTION, team, "booking")
    else:
        after_consent(turn, "booking", True)


def _team(turn: Turn) -> Team | None:
    team_id = turn.conversation.context.get("b_team")
    return turn.session.get(Team, team_id) if isinstance(team_id, int) else None


def after_consent(turn: Turn, purpose: str, agreed: bool) -> None:
    team = _team(turn)
    if team is None:
        start_booking(turn, "")
        return
    if not agreed:
        turn.forget("routing")
        turn.say(turn.t("booking.no_consent"), contacts=[team_contact(team)])
        from bot.flows import topics

        topics.show_menu(turn, "")
        return
    if purpose == "booking":
        recipients = _release_recipients(turn, team)
        if recipients:
            turn.remember(release_recipients="; ".join(recipients))
            turn.say(
                turn.t("booking.release_offer", recipients=", ".join(recipients)),
                [[turn.button("booking.release_read", "book:release"), turn.button("button.skip", "book:details")]],
            )
            return
    _ask_name(turn)


def _release_recipients(turn: Turn, team: Team) -> list[str]:
    """Other receiving teams of the same municipality, by name; never the Ausländerbehörde."""
    others = turn.session.exec(
        select(Team).where(Team.municipality_id == team.municipality_id, Team.id != team.id)
    ).all()
    return [t.name for t in others if t.kind not in ("abh", "auslaenderbehoerde")][:4]


def _ask_name(turn: Turn) -> None:
    turn.goto("book_name")
    turn.say(turn.t("booking.ask_name"), [[turn.button("button.skip", "book:skip_name")]])


def _seal(turn: Turn, value: str) -> str:
    token = turn.services.cipher.encrypt(value)
    assert token is not None
    return base64.b64encode(token).decode()


def _unseal(turn: Turn, key: str) -> str | None:
    value = turn.conversation.context.get(key)
    return turn.services.cipher.decrypt(base64.b64decode(value)) if isinstance(value, str) else None


def on_name(turn: Turn, text: str) -> None:
    turn.remember(b_name=_seal(turn, text[:80]))
    _ask_phone(turn)


def _ask_phone(turn: Turn) -> None:
    turn.goto("book_phone")
    turn.say(turn.t("booking.ask_phone"), [[turn.button("button.skip", "book:skip_phone")]])


def on_phone(turn: Turn, text: str) -> None:
    digits = [c for c in text if c.isdigit()]
    if not 6 <= len(digits) <= 16:
        turn.say(turn.t("booking.phone_invalid"), [[turn.button("button.skip", "book:skip_phone")]])
        return
    turn.remember(b_phone=_seal(turn, text.strip()[:30]))
    _ask_interpreter(turn)


def _ask_interpreter(turn: Turn) -> None:
    turn.goto("ready")
    own = NATIVE_NAMES.get(turn.language, turn.language)
    rows = [[turn.button("booking.interpreter_no", "book:interpreter:none")]]
    if turn.language != "de":
        rows.append([turn.button("booking.interpreter_yes", f"book:interpreter:{turn.language}", language=own)])
    turn.say(turn.t("booking.ask_interpreter"), rows)


def _ask_words(turn: Turn) -> None:
    turn.goto("book_words")
    turn.say(turn.t("booking.ask_words"), [[turn.button("button.skip", "book:skip_words")]])


def on_words(turn: Turn, text: str) -> None:
    turn.remember(b_words=_seal(turn, text[:1000]))
    _ask_children(turn)


def _ask_children(turn: Turn) -> None:
    turn.goto("ready")
    turn.say(
        turn.t("booking.ask_children"),
        [[turn.button("button.yes", "book:children:yes"), turn.button("button.no", "book:children:no"), turn.button("button.skip", "book:children:skip")]],
    )


def show_slots(turn: Turn, page_text: str) -> None:
    team = _team(turn)
    if team is None:
        start_booking(turn, "")
        return
    page = int(page_text) if page_text.isdigit() else 0
    zone = team_timezone(turn.session, team)
    slots = free_slots(turn.session, team)
    if not slots:
        turn.say(turn.t("booking.no_slots"), [[turn.button("booking.join_waitlist", "book:waitlist"), turn.button("button.menu", "menu")]])
        return
    days = [(d, list(s)) for d, s in groupby(slots, key=lambda m: day_label(m, zone, turn.language))]
    shown = days[page * DAYS_PER_PAGE : (page + 1) * DAYS_PER_PAGE] or days[:DAYS_PER_PAGE]
    rows: list[list[Button]] = []
    lines = [turn.t("booking.choose_slot", team=team.name)]
    for day, moments in shown:
        lines.append(day)
        rows.append([Button(f"{day[:3]} {time_label(m, zone, turn.language)}", f"book:slot:{int(m.timestamp())}") for m in moments[:SLOTS_PER_DAY]])
    if (page + 1) * DAYS_PER_PAGE < len(days):
        rows.append([turn.button("booking.later", f"book:slots:{page + 1}")])
    turn.say("\n".join(lines), rows)


def on_slot(turn: Turn, epoch: str) -> None:
    team = _team(turn)
    if team is None or not epoch.isdigit() or turn.person.consented_at is None:
        start_booking(turn, "")
        return
    starts_at = datetime.fromtimestamp(int(epoch), UTC)
    if starts_at not in free_slots(turn.session, team):
        turn.say(turn.t("booking.slot_taken"))
        show_slots(turn, "0")
        return
    previous = _reschedule_source(turn)
    context = turn.conversation.context
    cipher = turn.services.cipher
    booking = Booking(
        reference="",
        person_id=turn.person.id,
        team_id=team.id,  # type: ignore[arg-type]
        conversation_id=turn.conversation.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=team.slot_minutes),
        language=turn.language,
        topic=context.get("last_topic") if isinstance(context.get("last_topic"), str) else None,  # type: ignore[arg-type]
        interpreter_language=context.get("b_interpreter") if isinstance(context.get("b_interpreter"), str) else None,  # type: ignore[arg-type]
        children_involved=context.get("b_children") if isinstance(context.get("b_children"), bool) else None,  # type: ignore[arg-type]
        routing_answers=dict(context.get("routing", {})),  # type: ignore[call-overload]
        source="volunteer" if turn.conversation.referrer_code else "self",
        referrer_code=turn.conversation.referrer_code,
        display_name_enc=cipher.encrypt(_unseal(turn, "b_name")),
        phone_enc=cipher.encrypt(_unseal(turn, "b_phone")),
        own_words_enc=cipher.encrypt(_unseal(turn, "b_words")),
        first_contact_at=turn.conversation.created_at,
    )
    try:
        with turn.session.begin_nested():  # a failed reschedule keeps the old appointment
            if previous is not None:
                cancel_by_person(turn.session, previous)
            create_intake(turn.session, booking)
    except (SlotTaken, DuplicateIntake):
        turn.say(turn.t("booking.slot_taken"))
        show_slots(turn, "0")
        return
    _link_consents(turn, booking)
    remember_address(turn.identity, cipher, turn.incoming.external_id)
    turn.session.add(turn.identity)
    turn.forget("routing", "reschedule", "release_recipients", *PERSONAL_KEYS)
    _confirmation(turn, booking, team)


def _link_consents(turn: Turn, booking: Booking) -> None:
    from core.consent import ConsentRecord

    ids = turn.conversation.context.get("consent_records", [])
    for record_id in ids if isinstance(ids, list) else []:
        record = turn.session.get(ConsentRecord, record_id)
        if record is not None and record.booking_id is None:
            record.booking_id = booking.id
            turn.session.add(record)
    turn.forget("consent_records")


def _confirmation(turn: Turn, booking: Booking, team: Team) -> None:
    zone = team_timezone(turn.session, team)
    when = when_label(booking.starts_at, zone, turn.language)
    where = team.address or turn.t("booking.address_follows")
    summary = turn.t("booking.ics_summary", team=team.name)
    ics = booking_ics(booking, summary, team.address or team.name, turn.t("booking.bring"))
    turn.say(
        turn.t("booking.confirmed", when=when, where=where, reference=booking.reference),
        [[turn.button("booking.cancel", "appointment:cancel"), turn.button("booking.reschedule", "appointment:reschedule")],
         [turn.button("button.menu", "menu")]],
        title=turn.t("booking.confirmed_title"),
        contacts=[team_contact(team)],
        checklist=[turn.t("booking.bring")],
        notes=[turn.t("booking.no_promise"), turn.t("booking.how_to_cancel")],
        attachment=Attachment(f"lotse-{booking.reference}.ics", "text/calendar", ics),
    )


def show_status(turn: Turn, _: str) -> None:
    booking = active_booking(turn.session, turn.person.id) if turn.person.id else None
    if booking is None:
        turn.say(turn.t("booking.none"), [[turn.button("button.book", "book"), turn.button("button.menu", "menu")]])
        return
    team = turn.session.get(Team, booking.team_id)
    assert team is not None
    if booking.status == BookingStatus.HELD:
        _offer_hold(turn, booking, team)
        return
    zone = team_timezone(turn.session, team)
    turn.say(
        turn.t("booking.status", when=when_label(booking.starts_at, zone, turn.language), team=team.name,
               status=turn.t(f"status.{booking.status}"), reference=booking.reference,
               where=team.address or turn.t("booking.address_follows")),
        [[turn.button("booking.cancel", "appointment:cancel"), turn.button("booking.reschedule", "appointment:reschedule")],
         [turn.button("button.menu", "menu")]],
    )


def _offer_hold(turn: Turn, booking: Booking, team: Team) -> None:
    zone = team_timezone(turn.session, team)
    turn.say(
        turn.t("waitlist.offer", when=when_label(booking.starts_at, zone, turn.language), team=team.name),
        [[turn.button("waitlist.accept", f"book:accept:{booking.id}"), turn.button("waitlist.decline", f"book:decline:{booking.id}")]],
    )


def ask_cancel(turn: Turn, _: str) -> None:
    booking = active_booking(turn.session, turn.person.id) if turn.person.id else None
    if booking is None:
        show_status(turn, "")
        return
    turn.say(turn.t("booking.cancel_confirm"), [[turn.button("booking.cancel_yes", f"book:cancel:{booking.id}"), turn.button("button.back", "menu")]])


def _own_booking(turn: Turn, booking_id: str) -> Booking | None:
    booking = turn.session.get(Booking, int(booking_id)) if booking_id.isdigit() else None
    if booking is None or booking.person_id != turn.person.id or not booking.is_active:
        return None
    return booking


def do_cancel(turn: Turn, booking_id: str) -> None:
    booking = _own_booking(turn, booking_id)
    if booking is None:
        show_status(turn, "")
        return
    cancel_by_person(turn.session, booking)
    turn.say(turn.t("booking.cancelled"), [[turn.button("button.book", "book"), turn.button("button.menu", "menu")]])


def start_reschedule(turn: Turn, _: str) -> None:
    booking = active_booking(turn.session, turn.person.id) if turn.person.id else None
    if booking is None:
        show_status(turn, "")
        return
    turn.remember(reschedule=booking.id, b_team=booking.team_id)
    show_slots(turn, "0")


def _reschedule_source(turn: Turn) -> Booking | None:
    booking_id = turn.conversation.context.get("reschedule")
    return _own_booking(turn, str(booking_id)) if booking_id else None


def on_action(turn: Turn, argument: str) -> None:
    step, _, value = argument.partition(":")
    context = turn.conversation.context
    if step == "go":
        turn.remember(routing={})
        _routing_step(turn)
    elif step == "answer":
        criterion, _, answer = value.partition("=")
        turn.remember(routing={**dict(context.get("routing", {})), criterion: answer})  # type: ignore[call-overload]
        _routing_step(turn)
    elif step == "town":
        town = turn.session.exec(select(Municipality).where(Municipality.slug == value)).first()
        if town is not None:
            turn.conversation.municipality_id = town.id
        _routing_step(turn)
    elif step == "release":
        team = _team(turn)
        if team is not None:
            ask_consent(turn, ConsentKind.CONFIDENTIALITY_RELEASE, team, "booking_release")
    elif step in ("details", "skip_name"):
        _ask_phone(turn) if step == "skip_name" else _ask_name(turn)
    elif step == "skip_phone":
        _ask_interpreter(turn)
    elif step == "interpreter":
        turn.remember(b_interpreter=None if value == "none" else value)
        _ask_words(turn)
    elif step == "skip_words":
        _ask_children(turn)
    elif step == "children":
        turn.remember(b_children={"yes": True, "no": False}.get(value))
        show_slots(turn, "0")
    elif step == "slots":
        show_slots(turn, value)
    elif step == "slot":
        on_slot(turn, value)
    elif step == "waitlist":
        team = _team(turn)
        if team is not None and turn.person.id is not None:
            join_waitlist(turn.session, turn.person.id, team.id, turn.language, turn.conversation.id)  # type: ignore[arg-type]
            remember_address(turn.identity, turn.services.cipher, turn.incoming.external_id)
            turn.session.add(turn.identity)
            turn.say(turn.t("waitlist.joined", team=team.name), [[turn.button("button.menu", "menu")]])
    elif step == "cancel":
        do_cancel(turn, value)
    elif step == "accept":
        booking = turn.session.get(Booking, int(value)) if value.isdigit() else None
        if booking is None or booking.person_id != turn.person.id or booking.status != BookingStatus.HELD:
            turn.say(turn.t("waitlist.expired"), [[turn.button("button.book", "book")]])
            return
        accept_hold(turn.session, booking)
        team = turn.session.get(Team, booking.team_id)
        assert team is not None
        _confirmation(turn, booking, team)
    elif step == "decline":
        booking = turn.session.get(Booking, int(value)) if value.isdigit() else None
        if booking is not None and booking.person_id == turn.person.id and booking.status == BookingStatus.HELD:
            cancel_by_person(turn.session, booking)
        turn.say(turn.t("booking.cancelled"), [[turn.button("button.menu", "menu")]])
    else:
        start_booking(turn, "")


def on_appointment(turn: Turn, argument: str) -> None:
    {"cancel": ask_cancel, "reschedule": start_reschedule}.get(argument, show_status)(turn, "")


ACTIONS: dict[str, Handler] = {"book": lambda turn, arg: start_booking(turn, "") if not arg else on_action(turn, arg), "appointment": on_appointment}
TEXT_STATES: dict[str, TextHandler] = {"book_name": on_name, "book_phone": on_phone, "book_words": on_words}
