"""Who did what, when: never the personal data itself."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, Session, SQLModel

from core.clock import utcnow
from core.columns import json_column


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=120)
    action: str = Field(max_length=80)
    subject_type: str = Field(max_length=40)
    subject_id: str = Field(max_length=64)
    detail: dict[str, object] = Field(default_factory=dict, sa_column=json_column())


def audit(
    session: Session,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: object,
    **detail: object,
) -> AuditEvent:
    event = AuditEvent(
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        detail=dict(detail),
    )
    session.add(event)
    return event
