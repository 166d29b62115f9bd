"""Pseudonymous people and their conversations; personal fields only after consent."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Select, UniqueConstraint, and_, bindparam, delete, func, insert, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import class_mapper, make_transient_to_detached
from sqlmodel import Field, Session, SQLModel, col, select

from core.clock import utcnow
from core.columns import encrypted_column, enum_type, json_column
from core.crypto import FieldCipher
from core.errors import ConsentRequired
from core.stats import COUNT_FIELDS, COUNT_KEY, QuestionCount, TopicCount, count_questions


class Channel(StrEnum):
    TELEGRAM = "telegram"
    WEBCHAT = "webchat"


class Person(SQLModel, table=True):
    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("pseudonym", name="uq_person_pseudonym"),)

    id: int | None = Field(default=None, primary_key=True)
    pseudonym: str = Field(default_factory=lambda: uuid.uuid4().hex, max_length=32)
    language: str = Field(default="de", max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    consented_at: datetime | None = None
    display_name_enc: bytes | None = Field(default=None, sa_column=encrypted_column())
    phone_enc: bytes | None = Field(default=None, sa_column=encrypted_column())


class ChannelIdentity(SQLModel, table=True):
    """How to reach a person on a channel: found by keyed hash, address kept encrypted."""

    __tablename__ = "channel_identity"
    __table_args__ = (
        UniqueConstraint("channel", "external_hash", name="uq_channel_identity_external"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    channel: Channel = Field(sa_type=enum_type(Channel))
    external_hash: str = Field(max_length=64)
    address_enc: bytes | None = Field(default=None, sa_column=encrypted_column())


class Conversation(SQLModel, table=True):
    __tablename__ = "conversation"
    __table_args__ = (
        UniqueConstraint("channel", "person_id", name="uq_conversation_person_channel"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    channel: Channel = Field(sa_type=enum_type(Channel))
    state: str = Field(default="start", max_length=40)
    language: str | None = Field(default=None, max_length=16)
    municipality_id: int | None = Field(
        default=None, foreign_key="municipality.id", ondelete="SET NULL"
    )
    referrer_code: str | None = Field(default=None, max_length=64)
    context: dict[str, object] = Field(default_factory=dict, sa_column=json_column())
    misses: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ProcessedUpdate(SQLModel, table=True):
    """An inbound update already handled: a replay changes nothing and gets the same answer.

    The replies are kept (encrypted) until the channel confirms delivery, so an update whose
    process died between commit and send is answered when the channel delivers it again.
    """

    __tablename__ = "processed_update"
    __table_args__ = (UniqueConstraint("channel", "update_key", name="uq_processed_update"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: Channel = Field(sa_type=enum_type(Channel))
    update_key: str = Field(max_length=128)
    received_at: datetime = Field(default_factory=utcnow, index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL", index=True)
    replies_enc: bytes | None = Field(default=None, sa_column=encrypted_column())
    replies_sent: int = 0  # how many of the kept replies the channel has taken


PROCESSED_UPDATE = ProcessedUpdate.__table__  # the table, for Core statements on the hot path

# The hot path's statements are built once, with bind parameters: building a statement costs
# far more than running it (the person look-up: ~0.5 ms to build, ~0.25 ms to run).
_RECORD_PROCESSED = insert(PROCESSED_UPDATE).inline()  # no RETURNING of the new id: nobody needs it
_PROCESSED_FIELDS = ("channel", "update_key", "received_at", "person_id", "replies_enc", "replies_sent")
_PROCESSED_KEY = (
    PROCESSED_UPDATE.c.channel == bindparam("key_channel"),
    PROCESSED_UPDATE.c.update_key == bindparam("key"),
    PROCESSED_UPDATE.c.replies_enc.is_not(None),
)
_DELIVERED_ONE = update(PROCESSED_UPDATE).where(*_PROCESSED_KEY).values(replies_sent=PROCESSED_UPDATE.c.replies_sent + 1)
_DELIVERED_ALL = update(PROCESSED_UPDATE).where(*_PROCESSED_KEY).values(replies_enc=None)
_FIND_PROCESSED = select(ProcessedUpdate).where(
    ProcessedUpdate.channel == bindparam("channel"), ProcessedUpdate.update_key == bindparam("update_key")
)
_LAGGING_COMMIT = text("SET LOCAL synchronous_commit TO OFF")
_DURABLE_COMMIT = text("SET LOCAL synchronous_commit TO ON")


def record_processed(
    session: Session, channel: Channel, update_key: str, person_id: int | None, replies_enc: bytes | None
) -> None:
    """The update's replay key with its (encrypted) replies; a replay violates the unique key
    here, inside the turn's transaction. One Core INSERT: no ORM object is needed."""
    session.connection().execute(_RECORD_PROCESSED, _processed_values(channel, update_key, person_id, replies_enc))


def _processed_values(
    channel: Channel, update_key: str, person_id: int | None, replies_enc: bytes | None, prefix: str = ""
) -> dict[str, object]:
    values = (channel, update_key, utcnow(), person_id, replies_enc, 0)
    return {prefix + name: value for name, value in zip(_PROCESSED_FIELDS, values, strict=True)}


def find_processed(session: Session, channel: Channel, update_key: str) -> ProcessedUpdate | None:
    return session.exec(_FIND_PROCESSED, params={"channel": channel, "update_key": update_key}).first()  # type: ignore[call-overload, no-any-return]


def record_delivery(connection: Connection, channel: Channel, update_key: str, finished: bool) -> None:
    """The channel took one more of the kept replies, or (finished) the last: then our copy
    goes. Losing this write on a crash only means a redelivery resends one reply, so
    PostgreSQL need not wait for the flush to disk."""
    if connection.dialect.name == "postgresql":
        connection.execute(_LAGGING_COMMIT)
    connection.execute(_DELIVERED_ALL if finished else _DELIVERED_ONE, {"key_channel": channel, "key": update_key})


def expire_processed(session: Session, now: datetime, keep_replies: timedelta, keep_keys: timedelta) -> dict[str, int]:
    """Undelivered reply copies after `keep_replies`; replay keys after `keep_keys`."""
    cleared = session.execute(
        update(ProcessedUpdate)
        .where(col(ProcessedUpdate.replies_enc).is_not(None), ProcessedUpdate.received_at < now - keep_replies)
        .values(replies_enc=None)
    )
    dropped = session.execute(
        delete(ProcessedUpdate).where(col(ProcessedUpdate.received_at) < now - keep_keys)
    )
    return {"reply_copies": cleared.rowcount or 0, "update_keys": dropped.rowcount or 0}  # type: ignore[attr-defined]


_IDENTITY, _PERSON, _CONVERSATION = ChannelIdentity.__table__, Person.__table__, Conversation.__table__


def _conversation_statement(lagging_commit: bool) -> Select:  # type: ignore[type-arg]
    lag = (func.set_config("synchronous_commit", "off", True),) if lagging_commit else ()
    return (
        select(_IDENTITY, _PERSON, _CONVERSATION, *lag)
        .join(_PERSON, _PERSON.c.id == _IDENTITY.c.person_id)
        .join(_CONVERSATION, and_(_CONVERSATION.c.person_id == _PERSON.c.id, _CONVERSATION.c.channel == _IDENTITY.c.channel))
        .where(_IDENTITY.c.channel == bindparam("channel"), _IDENTITY.c.external_hash == bindparam("digest"))
        .with_for_update(of=_CONVERSATION)
    )


_FIND_CONVERSATION = _conversation_statement(lagging_commit=False)
_FIND_CONVERSATION_LAGGING = _conversation_statement(lagging_commit=True)  # PostgreSQL only


class _Rows:
    """Entities made from a Core row's columns the way the ORM's loader makes them (a new
    instance, its attributes set directly): the look-up runs as a Core statement and costs
    about a fifth less than the same statement through the ORM (~100 µs per turn, measured
    interleaved in one process)."""

    def __init__(self, *entities: type[SQLModel]) -> None:
        self.kinds = []
        start = 0
        for entity in entities:
            mapper = class_mapper(entity)
            keys = tuple(mapper.get_property_by_column(column).key for column in entity.__table__.columns)  # type: ignore[attr-defined]
            self.kinds.append((mapper.class_manager, start, start + len(keys), keys))
            start += len(keys)

    def split(self, row: Sequence[object]) -> list[SQLModel]:
        made = []
        for manager, start, end, keys in self.kinds:
            entity = manager.new_instance()
            entity.__dict__.update(zip(keys, row[start:end], strict=True))
            made.append(entity)
        return made


_FOUND = _Rows(ChannelIdentity, Person, Conversation)

_SAVE_CONVERSATION = update(_CONVERSATION).where(_CONVERSATION.c.id == bindparam("conversation_id"))
_CONVERSATION_FIELDS = ("state", "language", "municipality_id", "referrer_code", "context", "misses", "updated_at")
# PostgreSQL: WITH saved AS (UPDATE conversation ...) INSERT INTO processed_update ...
# Bind names are prefixed: a parameter named like a column of either table would be added to
# the other statement's SET or VALUES.
_SAVE_AND_RECORD = (
    insert(PROCESSED_UPDATE)
    .inline()
    .values({name: bindparam(f"p_{name}", type_=PROCESSED_UPDATE.c[name].type) for name in _PROCESSED_FIELDS})
    .add_cte(
        update(_CONVERSATION)
        .where(_CONVERSATION.c.id == bindparam("conversation_id"))
        .values({name: bindparam(f"c_{name}", type_=_CONVERSATION.c[name].type) for name in _CONVERSATION_FIELDS})
        .cte("saved")
    )
)
_TOPIC_COUNT = TopicCount.__table__
# ... and the question count's upsert in a second WITH
_SAVE_RECORD_COUNT = _SAVE_AND_RECORD.add_cte(
    postgresql_insert(_TOPIC_COUNT)
    .values({name: bindparam(f"t_{name}", type_=_TOPIC_COUNT.c[name].type) for name in COUNT_FIELDS})
    .on_conflict_do_update(index_elements=list(COUNT_KEY), set_={"count": _TOPIC_COUNT.c.count + 1})
    .cte("counted")
)


def find_conversation(
    session: Session, cipher: FieldCipher, channel: Channel, external_id: str, lagging_commit: bool = False
) -> tuple[Person, ChannelIdentity, Conversation] | None:
    """Person, channel identity and conversation in one round trip, the conversation locked
    for this turn (FOR UPDATE OF: a person's messages are handled one at a time); None on
    first contact. The turn's first statement: its session holds nothing yet.

    Person and identity join the session, persistent and unchanged, so what a flow changes
    on them is flushed. The conversation stays outside: `save_conversation` writes it at the
    end of the turn in one statement, whatever changed.

    lagging_commit: on PostgreSQL, the same round trip sets this transaction's commit not to
    wait for the WAL flush (see `bot.engine`; a turn that writes more sets it back)."""
    statement = _FIND_CONVERSATION_LAGGING if lagging_commit and _is_postgresql(session) else _FIND_CONVERSATION
    digest = cipher.lookup_hash(f"{channel}:{external_id}")
    found = session.connection().execute(statement, {"channel": channel, "digest": digest}).first()
    if found is None:
        return None
    identity, person, conversation = _FOUND.split(found)
    for entity in (identity, person):
        make_transient_to_detached(entity)
        session.add(entity)
    return person, identity, conversation  # type: ignore[return-value]


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def durable_commit(session: Session) -> None:
    """This transaction's commit waits for the WAL flush again (PostgreSQL's default)."""
    if _is_postgresql(session):
        session.connection().execute(_DURABLE_COMMIT)


def save_conversation(session: Session, conversation: Conversation) -> None:
    """The turn's end: the conversation in one Core UPDATE, then out of the session, so the
    commit's flush has nothing to do for it (the unit of work costs more than the statement)."""
    session.connection().execute(_SAVE_CONVERSATION, _conversation_values(conversation))
    _leave(session, conversation)


def save_and_record(
    session: Session,
    conversation: Conversation,
    channel: Channel,
    update_key: str,
    replies_enc: bytes | None,
    counts: Sequence[QuestionCount] = (),
) -> None:
    """`save_conversation`, `record_processed` and the turn's question count together. On
    PostgreSQL in one statement (the UPDATE and the count's upsert in a WITH): one round trip
    instead of three, for the app and the database alike. A replay still violates the update
    key, and the rest goes with it."""
    postgresql = _is_postgresql(session)
    if not postgresql or len(counts) > 1:
        count_questions(session, counts)
        counts = ()
    if not postgresql:
        save_conversation(session, conversation)
        record_processed(session, channel, update_key, conversation.person_id, replies_enc)
        return
    values = _conversation_values(conversation, prefix="c_")
    values.update(_processed_values(channel, update_key, conversation.person_id, replies_enc, prefix="p_"))
    if counts:
        values.update({f"t_{name}": value for name, value in counts[0].values().items()})
    session.connection().execute(_SAVE_RECORD_COUNT if counts else _SAVE_AND_RECORD, values)
    _leave(session, conversation)


def _leave(session: Session, conversation: Conversation) -> None:
    """Out of the session, if in it (a first contact's new one): the commit's flush then has
    nothing to do for it (the unit of work costs more than the statement)."""
    if conversation in session:
        session.expunge(conversation)


def _conversation_values(conversation: Conversation, prefix: str = "") -> dict[str, object]:
    """The UPDATE's parameters: the saved fields (named with `prefix`) and the row's id."""
    conversation.updated_at = utcnow()
    values: dict[str, object] = {prefix + name: getattr(conversation, name) for name in _CONVERSATION_FIELDS}
    values["conversation_id"] = conversation.id
    return values


def find_or_create_identity(
    session: Session, cipher: FieldCipher, channel: Channel, external_id: str, language: str
) -> tuple[Person, ChannelIdentity]:
    """The person behind a channel identifier, created pseudonymously on first contact."""
    digest = cipher.lookup_hash(f"{channel}:{external_id}")
    statement = (
        select(ChannelIdentity, Person)
        .join(Person, col(Person.id) == ChannelIdentity.person_id)
        .where(ChannelIdentity.channel == channel, ChannelIdentity.external_hash == digest)
    )
    found = session.exec(statement).first()
    if found is not None:
        identity, person = found
        return person, identity
    person = Person(language=language)
    session.add(person)
    session.flush()
    assert person.id is not None
    identity = ChannelIdentity(
        person_id=person.id,
        channel=channel,
        external_hash=digest,
    )
    session.add(identity)
    session.flush()
    return person, identity


def set_personal_details(
    person: Person, cipher: FieldCipher, display_name: str | None, phone: str | None
) -> None:
    if person.consented_at is None:
        raise ConsentRequired("personal details need consent first")
    person.display_name_enc = cipher.encrypt(display_name)
    person.phone_enc = cipher.encrypt(phone)


def remember_address(identity: ChannelIdentity, cipher: FieldCipher, external_id: str) -> None:
    """Keep the channel address only when later messages need it (booking, handoff)."""
    identity.address_enc = cipher.encrypt(external_id)


class WebInboxMessage(SQLModel, table=True):
    """A message for a web-chat user that arrived outside a request (reply, reminder, notice)."""

    __tablename__ = "web_inbox_message"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    payload: dict[str, object] = Field(default_factory=dict, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow)


def take_web_inbox(session: Session, cipher: FieldCipher, token: str) -> list[dict[str, object]]:
    """The messages waiting for the web-chat browser holding `token`, oldest first; taken
    means deleted, so each is returned once."""
    digest = cipher.lookup_hash(f"{Channel.WEBCHAT}:{token}")
    identity = session.exec(
        select(ChannelIdentity).where(ChannelIdentity.channel == Channel.WEBCHAT, ChannelIdentity.external_hash == digest)
    ).first()
    if identity is None:
        return []
    rows = list(session.exec(
        select(WebInboxMessage).where(WebInboxMessage.person_id == identity.person_id).order_by(col(WebInboxMessage.id))
    ))
    for row in rows:
        session.delete(row)
    return [row.payload for row in rows]
