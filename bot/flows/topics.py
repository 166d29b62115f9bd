"""Questions: NLU -> curated content for (topic, place, language); menus; emergencies first."""

from __future__ import annotations

import logging

from bot.answers import answer_reply
from bot.flows.dispatch import Handler
from bot.replies import Button
from bot.turn import Turn
from core.clock import utcnow
from core.intents import all_intents, topic_names
from core.stats import QuestionCount, count_question

log = logging.getLogger(__name__)
MENU_TOPICS = (
    "registration_address",
    "residence_permit",
    "integration_course",
    "job_search",
    "social_benefits",
    "health_care",
    "housing",
    "school",
    "counselling_services",
    "letter_help",
)
PAGE = 8
FREE_TEXT_STATES = frozenset({"book_name", "book_phone", "book_words", "place"})
FREE_TEXT_ALARM = 0.5
KIND = {i.name: i.kind for i in all_intents()}


def handle_emergency(turn: Turn, text: str) -> bool:
    """Acute danger is answered at once, in any state, before anything else."""
    result = turn.parse(text)
    if result.intent.name != "emergency":
        return False
    if turn.conversation.state in FREE_TEXT_STATES and result.intent.confidence < FREE_TEXT_ALARM:
        return False  # a name like "Hamed" at the name prompt is not an alarm
    log.info("emergency detected conversation=%s", turn.conversation.id)
    if turn.conversation.language is None:
        from core.language import normalise_tag

        turn.conversation.language = normalise_tag(result.language) or "de"
    answer_topic(turn, "emergency", count=True)
    return True


def on_question(turn: Turn, text: str) -> None:
    result = turn.parse(text)
    intent = result.intent.name
    kind = KIND.get(intent, "dialogue")
    if intent != "out_of_scope":
        turn.conversation.misses = 0
    if kind == "topic":
        answer_topic(turn, intent, count=True)
    elif kind == "booking":
        from bot.flows import booking

        booking.on_booking_intent(turn, intent)
    elif intent == "privacy_info":
        from bot.flows import privacy

        privacy.show_privacy(turn, "")
    elif intent == "privacy_delete":
        from bot.flows import privacy

        privacy.confirm_delete(turn, "")
    elif intent == "human_handoff":
        from bot.flows import handoff

        handoff.start_handoff(turn, "")
    elif intent == "change_language":
        from bot.flows import start

        start.ask_language(turn, "")
    elif intent in ("greet", "help"):
        turn.say(turn.t(f"dialogue.{intent}"))
        show_menu(turn, "")
    elif intent in ("goodbye", "thanks"):
        turn.say(turn.t(f"dialogue.{intent}"), [[turn.button("button.menu", "menu")]])
    else:
        _did_not_understand(turn, [c.name for c in result.candidates])


def _did_not_understand(turn: Turn, candidates: list[str]) -> None:
    conversation = turn.conversation
    conversation.misses += 1
    _count(turn, candidates[0] if candidates else "unknown", answered=False)
    useful = [c for c in candidates if c in KIND and c != "out_of_scope"][:3]
    if conversation.misses >= 2 or not useful:
        conversation.misses = 0
        turn.say(turn.t("fallback.menu"), [[turn.button("button.person", "handoff")]])
        show_topics(turn, "0")
        return
    rows = [[Button(turn.t(f"intent.{c}"), _action_for(c))] for c in useful]
    rows.append([turn.button("button.none_of_these", "menu")])
    turn.say(turn.t("fallback.did_you_mean"), rows)


def _action_for(intent: str) -> str:
    kind = KIND.get(intent)
    if kind == "topic":
        return f"topic:{intent}"
    return {
        "book_appointment": "book",
        "cancel_appointment": "appointment:cancel",
        "reschedule_appointment": "appointment:reschedule",
        "appointment_status": "appointment:status",
        "human_handoff": "handoff",
        "privacy_info": "cmd:privacy",
        "privacy_delete": "cmd:delete",
        "change_language": "cmd:language",
    }.get(intent, "menu")


def answer_topic(turn: Turn, topic: str, count: bool = False) -> None:
    if topic not in topic_names():
        show_menu(turn, "")
        return
    if topic != "emergency":
        turn.remember(last_topic=topic)
    municipality = turn.municipality
    answer = turn.services.library.answer_for(
        topic, municipality.slug if municipality else None, turn.language
    )
    if count:
        _count(turn, topic, answered=answer is not None)
    if answer is None:
        turn.say(turn.t("answer.missing"), [[turn.button("button.person", "handoff")]])
        return
    turn.replies.append(answer_reply(turn, answer))


def _count(turn: Turn, topic: str, answered: bool) -> None:
    today = utcnow().date()
    week = today.fromordinal(today.toordinal() - today.weekday())
    municipality_id = turn.conversation.municipality_id
    if municipality_id is None:
        count_question(turn.session, None, topic, turn.language, week, answered)
    else:  # nearly always: counted in the turn's last statement
        turn.counts.append(QuestionCount(municipality_id, topic, turn.language, week, answered))
    if turn.conversation.referrer_code:
        from core.referral import resolve_code

        code = resolve_code(turn.session, turn.conversation.referrer_code)
        if code is not None:
            code.questions += 1


def on_topic(turn: Turn, topic: str) -> None:
    answer_topic(turn, topic, count=True)


def show_menu(turn: Turn, _: str) -> None:
    if turn.conversation.state not in ("ready",) and turn.conversation.language and turn.conversation.municipality_id:
        turn.conversation.state = "ready"
    buttons = [Button(turn.t(f"intent.{t}"), f"topic:{t}") for t in MENU_TOPICS[:6]]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([turn.button("button.more_topics", "topics:0")])
    rows.append([turn.button("button.book", "book"), turn.button("button.person", "handoff")])
    rows.append([turn.button("button.privacy", "cmd:privacy"), turn.button("button.language", "cmd:language"), turn.button("button.place", "cmd:place")])
    turn.say(turn.t("menu.prompt"), rows)


def show_topics(turn: Turn, page_text: str) -> None:
    page = int(page_text) if page_text.isdigit() else 0
    names = sorted(topic_names(), key=lambda n: turn.t(f"intent.{n}"))
    chunk = names[page * PAGE : (page + 1) * PAGE]
    if not chunk:
        page, chunk = 0, names[:PAGE]
    rows = [[Button(turn.t(f"intent.{n}"), f"topic:{n}")] for n in chunk]
    navigation = []
    if page > 0:
        navigation.append(turn.button("button.previous", f"topics:{page - 1}"))
    if (page + 1) * PAGE < len(names):
        navigation.append(turn.button("button.next", f"topics:{page + 1}"))
    if navigation:
        rows.append(navigation)
    turn.say(turn.t("menu.topics"), rows)


def show_help(turn: Turn, _: str) -> None:
    turn.say(turn.t("dialogue.help"))
    show_menu(turn, "")


def on_helpful(turn: Turn, argument: str) -> None:
    verdict, _, topic = argument.partition(":")
    if verdict == "no":
        _count(turn, topic or "unknown", answered=False)
        turn.say(turn.t("feedback.no"), [[turn.button("button.person", "handoff"), turn.button("button.menu", "menu")]])
    else:
        turn.say(turn.t("feedback.yes"), [[turn.button("button.menu", "menu")]])


ACTIONS: dict[str, Handler] = {
    "topic": on_topic,
    "topics": show_topics,
    "menu": show_menu,
    "helpful": on_helpful,
}
