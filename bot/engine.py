"""The dialogue engine: one transaction per update, state in the database, flows decide."""

from __future__ import annotations

import json
import logging

from sqlalchemy import event, inspect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session, select

from bot.flows import booking, consent, handoff, privacy, start, topics
from bot.flows.dispatch import Handler, TextHandler
from bot.replies import Incoming, Reply
from bot.services import BotServices
from bot.turn import Turn
from bot.wire import reply_from_json, reply_to_json
from core.db import transaction
from core.errors import LotseError
from core.metrics import DUPLICATES, MESSAGES_IN
from core.person import (
    ChannelIdentity,
    Conversation,
    Person,
    ProcessedUpdate,
    durable_commit,
    find_conversation,
    find_or_create_identity,
    find_processed,
    record_delivery,
    record_processed,
    save_and_record,
    save_conversation,
)
from core.stats import count_questions

log = logging.getLogger(__name__)
MAX_TEXT = 4000

ACTIONS: dict[str, Handler] = {
    **start.ACTIONS,
    **topics.ACTIONS,
    **handoff.ACTIONS,
    **privacy.ACTIONS,
    **booking.ACTIONS,
    **consent.ACTIONS,
}
TEXT_STATES: dict[str, TextHandler] = {
    **start.TEXT_STATES,
    **handoff.TEXT_STATES,
    **booking.TEXT_STATES,
}
COMMANDS: dict[str, Handler] = {
    "start": start.on_start,
    "language": start.ask_language,
    "place": start.ask_place,
    "menu": topics.show_menu,
    "help": topics.show_help,
    "privacy": privacy.show_privacy,
    "delete": privacy.confirm_delete,
}


class TurnSession(Session):
    """A turn's session, which notes whether the turn wrote something that must not be lost.

    Most turns (questions, menus, language, place, a first contact) only move a pseudonymous
    conversation along; their commit need not wait for PostgreSQL to flush its WAL to disk.
    Should the database server itself crash, such a turn may be lost again: the person is a
    step back in the dialogue. A turn that stores anything personal, a consent, a booking, a
    handoff, or deletes anything, commits durably. The app's processes are not concerned: a
    commit reported is a commit every other connection sees, whatever happens to the app."""

    def wrote_what_must_last(self) -> bool:
        return bool(self.info.get("durable")) or _must_last(self)


def _must_last(session: Session) -> bool:
    if session.deleted:
        return True
    for row in session.new:
        if isinstance(row, Conversation):
            continue
        if isinstance(row, Person) and row.consented_at is None and row.display_name_enc is None and row.phone_enc is None:
            continue
        if isinstance(row, ChannelIdentity) and row.address_enc is None:
            continue
        return True
    for row in session.dirty:
        changed = {a.key for a in inspect(row).attrs if a.history.has_changes()}
        if not changed or isinstance(row, Conversation) or (isinstance(row, Person) and changed <= {"language"}):
            continue
        return True
    return False


@event.listens_for(TurnSession, "before_flush")
def _note_flushed_writes(session: Session, _context: object, _instances: object) -> None:
    if _must_last(session):
        session.info["durable"] = True


@event.listens_for(TurnSession, "do_orm_execute")
def _note_statement_writes(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info["durable"] = True


class DialogueEngine:
    """Turns one inbound event into replies, in one short transaction.

    The channels call it on their event loop, not in worker threads. A turn is a few
    milliseconds of CPU around four or five quick statements; handed to a pool of threads, the
    threads and the event loop fought over the GIL. The load benchmark (2 processes on PostgreSQL,
    350 msg/s) measured p99 2.8 s with threads and 26 ms inline, with a fifth less CPU.
    Waits are bounded: a person's turns queue on their conversation's row lock, which PostgreSQL
    gives up after `lock_timeout` (see `core.db`), SQLite after its busy timeout."""

    def __init__(self, services: BotServices) -> None:
        self.services = services

    def handle(self, incoming: Incoming) -> list[Reply]:
        """Replies to send for this event. A replayed update gets the replies of its first
        handling while the channel has not confirmed them (see `delivered`), else []."""
        MESSAGES_IN.labels(incoming.channel).inc()
        for attempt in range(3):
            try:
                with transaction(self.services.db, TurnSession) as session:
                    # First attempt: no look-up; the update key's unique index refuses a replay
                    # when the turn records it, and the retry then answers from the kept copy.
                    if incoming.update_key and attempt > 0:
                        seen = find_processed(session, incoming.channel, incoming.update_key)
                        if seen is not None:
                            DUPLICATES.labels(incoming.channel).inc()
                            log.info("replayed update channel=%s", incoming.channel)
                            return self._kept_replies(seen)
                    turn = self._turn(session, incoming)
                    self._dispatch(turn)
                    self._finish(session, incoming, turn)
                    if session.wrote_what_must_last():
                        durable_commit(session)
                    return turn.replies
            except IntegrityError:
                # Two first contacts of one new user, or two deliveries of one update, raced;
                # the retry finds the winner's rows.
                if attempt == 2:
                    raise
            except DBAPIError as exc:
                # A pooled connection the database dropped (restart, fail-over): SQLAlchemy
                # has discarded the pool's old connections; the turn runs again on a new one.
                if not exc.connection_invalidated or attempt == 2:
                    raise
                log.warning("database connection lost; handling the update again")
        return []

    def delivered(self, incoming: Incoming, finished: bool = True) -> None:
        """The channel took the next of the replies `handle` returned (finished: the last);
        a replay then returns only those not taken, and nothing once all were."""
        if incoming.update_key:
            with self.services.db.begin() as connection:  # one statement: no ORM session needed
                record_delivery(connection, incoming.channel, incoming.update_key, finished)

    def _finish(self, session: Session, incoming: Incoming, turn: Turn) -> None:
        """The conversation saved and the update recorded with a copy of its replies."""
        conversation = turn.conversation  # None once the person deleted everything
        if not incoming.update_key or conversation is None:
            count_questions(session, turn.counts)
        if not incoming.update_key:
            if conversation is not None:
                save_conversation(session, conversation)
            return
        copy = (
            self.services.cipher.encrypt(json.dumps([reply_to_json(r) for r in turn.replies]))
            if turn.replies
            else None
        )
        if conversation is None:
            record_processed(session, incoming.channel, incoming.update_key, None, copy)
        else:
            save_and_record(session, conversation, incoming.channel, incoming.update_key, copy, turn.counts)

    def _kept_replies(self, seen: ProcessedUpdate) -> list[Reply]:
        kept = self.services.cipher.decrypt(seen.replies_enc)
        return [reply_from_json(item) for item in json.loads(kept)[seen.replies_sent :]] if kept else []

    def _turn(self, session: TurnSession, incoming: Incoming) -> Turn:
        cipher = self.services.cipher
        found = find_conversation(session, cipher, incoming.channel, incoming.external_id, lagging_commit=True)
        if found is not None:
            return Turn(self.services, session, incoming, *found)
        person, identity = find_or_create_identity(
            session, cipher, incoming.channel, incoming.external_id, incoming.language_hint or "de"
        )
        assert person.id is not None
        statement = (
            select(Conversation)
            .where(Conversation.person_id == person.id, Conversation.channel == incoming.channel)
            .with_for_update()
        )
        conversation = session.exec(statement).first()
        if conversation is None:
            conversation = Conversation(person_id=person.id, channel=incoming.channel)
            session.add(conversation)
            session.flush()
        return Turn(self.services, session, incoming, person, identity, conversation)

    def _dispatch(self, turn: Turn) -> None:
        incoming = turn.incoming
        text = (incoming.text or "").strip()
        try:
            if text and topics.handle_emergency(turn, text[:MAX_TEXT]):
                return
            if incoming.command:
                handler = COMMANDS.get(incoming.command, topics.show_help)
                handler(turn, incoming.payload or "")
            elif incoming.action:
                self._dispatch_action(turn, incoming.action)
            elif text:
                self._dispatch_text(turn, text)
            if turn.conversation is not None and turn.conversation.state == "start" and not turn.replies:
                start.on_start(turn, incoming.payload or "")
        except LotseError as exc:
            log.info("domain error in dialogue: %s", exc.code)
            turn.say(turn.t(f"error.{exc.code}") if turn.services.strings.has("en", f"error.{exc.code}") else turn.t("error.generic"))

    def _dispatch_action(self, turn: Turn, action: str) -> None:
        name, _, argument = action.partition(":")
        if name == "cmd":  # a button standing for a command (web chat menu, "change language")
            COMMANDS.get(argument, topics.show_help)(turn, "")
            return
        handler = ACTIONS.get(name)
        if handler is None:
            topics.show_menu(turn, "")
            return
        handler(turn, argument[:200])

    def _dispatch_text(self, turn: Turn, text: str) -> None:
        if len(text) > MAX_TEXT:
            turn.say(turn.t("error.too_long", limit=MAX_TEXT))
            return
        state_handler = TEXT_STATES.get(turn.conversation.state)
        if state_handler is not None:
            state_handler(turn, text)
        elif turn.conversation.state in ("start", "language"):
            start.on_text_before_language(turn, text)
        else:
            topics.on_question(turn, text)
