"""A newcomer's request to talk to a person, and the team's reply."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from core.clock import utcnow
from core.columns import encrypted_column, enum_type


class HandoffStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


class HandoffRequest(SQLModel, table=True):
    __tablename__ = "handoff_request"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    conversation_id: int | None = Field(
        default=None, foreign_key="conversation.id", ondelete="SET NULL"
    )
    team_id: int = Field(foreign_key="team.id", ondelete="RESTRICT", index=True)
    language: str = Field(max_length=16)
    topic: str | None = Field(default=None, max_length=64)
    question_enc: bytes | None = Field(default=None, sa_column=encrypted_column())
    reply_enc: bytes | None = Field(default=None, sa_column=encrypted_column())
    reply_machine_translated: bool = False
    status: HandoffStatus = Field(
        default=HandoffStatus.OPEN, sa_type=enum_type(HandoffStatus), index=True
    )
    created_at: datetime = Field(default_factory=utcnow)
    answered_at: datetime | None = None
