"""Pseudonymous people and their conversations; personal fields only after consent."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from core.clock import utcnow
from core.columns import encrypted_column, enum_type, json_column
from core.crypto import FieldCipher
from core.errors import ConsentRequired


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
    """An inbound update already handled: replays change nothing."""

    __tablename__ = "processed_update"
    __table_args__ = (UniqueConstraint("channel", "update_key", name="uq_processed_update"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: Channel = Field(sa_type=enum_type(Channel))
    update_key: str = Field(max_length=128)
    received_at: datetime = Field(default_factory=utcnow, index=True)


def find_or_create_identity(
    session: Session, cipher: FieldCipher, channel: Channel, external_id: str, language: str
) -> tuple[Person, ChannelIdentity]:
    """The person behind a channel identifier, created pseudonymously on first contact."""
    digest = cipher.lookup_hash(f"{channel}:{external_id}")
    statement = select(ChannelIdentity).where(
        ChannelIdentity.channel == channel, ChannelIdentity.external_hash == digest
    )
    identity = session.exec(statement).first()
    if identity is not None:
        person = session.get(Person, identity.person_id)
        assert person is not None
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
