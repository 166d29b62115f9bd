"""First contact: language, place (preset by deep link), the privacy note, then the menu."""

from __future__ import annotations

from bot.flows import topics
from bot.flows.dispatch import Handler, TextHandler
from bot.replies import Button
from bot.turn import Turn
from core.language import CURATED, NATIVE_NAMES, normalise_tag
from core.referral import resolve_code

MODEL_PLACES_PER_ROW = 2


def on_start(turn: Turn, payload: str) -> None:
    """(Re)start: a valid code presets place, language, topic and referrer; anything else is ignored."""
    conversation = turn.conversation
    conversation.state = "start"
    conversation.misses = 0
    topic = None
    code = resolve_code(turn.session, payload or turn.incoming.payload)
    if code is not None:
        conversation.referrer_code = code.code
        code.conversations += 1
        turn.session.add(code)
        if code.municipality_id is not None:
            conversation.municipality_id = code.municipality_id
        if code.language:
            conversation.language = code.language
        topic = code.topic
    hinted_place = turn.incoming.municipality_hint
    if hinted_place and conversation.municipality_id is None:
        found = turn.services.municipalities.by_slug(turn.session, hinted_place)
        if found is not None:
            conversation.municipality_id = found.id
    if conversation.language is None and turn.incoming.language_hint:
        conversation.language = normalise_tag(turn.incoming.language_hint)
    if topic:
        turn.remember(pending_topic=topic)
    _continue(turn)


def _continue(turn: Turn) -> None:
    conversation = turn.conversation
    if conversation.language is None:
        ask_language(turn, "")
        return
    if conversation.municipality_id is None:
        ask_place(turn, "")
        return
    if conversation.state in ("start", "language", "place"):
        conversation.state = "ready"
        municipality = turn.municipality
        assert municipality is not None
        turn.say(turn.t("privacy.note"), title=turn.t("start.welcome", place=municipality.name))
        pending = conversation.context.get("pending_topic")
        turn.forget("pending_topic")
        if isinstance(pending, str) and pending == "book":
            from bot.flows import booking

            booking.start_booking(turn, "")
        elif isinstance(pending, str) and pending:
            topics.answer_topic(turn, pending)
        else:
            topics.show_menu(turn, "")


def ask_language(turn: Turn, _: str) -> None:
    turn.goto("language")
    buttons = [Button(NATIVE_NAMES[code], f"lang:{code}") for code in CURATED]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    text = " / ".join(
        turn.services.strings.get(code, "start.choose_language") for code in ("en", "de", "ar", "uk")
    )
    turn.say(text, rows)


def on_language(turn: Turn, code: str) -> None:
    language = normalise_tag(code)
    if language is None:
        ask_language(turn, "")
        return
    turn.conversation.language = language
    turn.person.language = language
    turn.session.add(turn.person)
    if turn.conversation.state == "language":
        turn.conversation.state = "start"
    if turn.conversation.state == "start":
        _continue(turn)
    else:
        turn.say(turn.t("start.language_set"))
        topics.show_menu(turn, "")


def on_text_before_language(turn: Turn, text: str) -> None:
    """Someone types before choosing: guess the language from the text, then go on."""
    result = turn.services.classifier.parse(text)
    language = normalise_tag(result.language)
    if language is None:
        ask_language(turn, "")
        return
    turn.conversation.language = language
    turn.conversation.state = "start"
    _continue(turn)


def ask_place(turn: Turn, _: str) -> None:
    turn.goto("place")
    places = turn.services.municipalities.choosable(turn.session)
    buttons = [Button(p.name, f"place:{p.slug}") for p in places]
    rows = [buttons[i : i + MODEL_PLACES_PER_ROW] for i in range(0, len(buttons), MODEL_PLACES_PER_ROW)]
    turn.say(turn.t("start.choose_place"), rows)


def on_place_text(turn: Turn, text: str) -> None:
    matches = turn.services.places.search(text)
    if len(matches) == 1 or (matches and matches[0].score >= 95 and (len(matches) == 1 or matches[1].score < 90)):
        on_place(turn, matches[0].slug)
        return
    if not matches:
        turn.say(turn.t("start.place_not_found"))
        ask_place(turn, "")
        return
    rows = [[Button(m.name, f"place:{m.slug}")] for m in matches]
    turn.say(turn.t("start.place_which"), rows)


def on_place(turn: Turn, slug: str) -> None:
    found = turn.services.municipalities.by_slug(turn.session, slug)
    if found is None:
        ask_place(turn, "")
        return
    turn.conversation.municipality_id = found.id
    if turn.conversation.state == "place":
        turn.conversation.state = "start"
    if turn.conversation.state == "start":
        _continue(turn)
    else:
        turn.say(turn.t("start.place_set", place=found.name))
        topics.show_menu(turn, "")


ACTIONS: dict[str, Handler] = {
    "lang": on_language,
    "place": on_place,
}
TEXT_STATES: dict[str, TextHandler] = {"place": on_place_text}
