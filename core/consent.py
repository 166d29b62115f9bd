"""Versioned consent texts and the records of consent given and withdrawn."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from core.clock import utcnow
from core.columns import enum_type, json_column
from core.crypto import sha256_hex
from core.errors import NotFound


class ConsentKind(StrEnum):
    DATA_PROTECTION = "data_protection"
    CONFIDENTIALITY_RELEASE = "confidentiality_release"


class ConsentText(SQLModel, table=True):
    __tablename__ = "consent_text"
    __table_args__ = (
        UniqueConstraint("scope", "kind", "language", "version", name="uq_consent_text_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int | None = Field(
        default=None, foreign_key="municipality.id", ondelete="RESTRICT", index=True
    )
    scope: str = Field(default="default", max_length=64, description="'default' or a municipality slug")
    kind: ConsentKind = Field(sa_type=enum_type(ConsentKind))
    language: str = Field(max_length=16)
    version: int = Field(ge=1)
    summary: str
    full_text: str
    binding_de: str
    created_at: datetime = Field(default_factory=utcnow)

    def render(self, **values: str) -> tuple[str, str, str]:
        """Summary, full text and binding German text with the recipients filled in."""
        return (
            self.summary.format(**values),
            self.full_text.format(**values),
            self.binding_de.format(**values),
        )


class ConsentRecord(SQLModel, table=True):
    __tablename__ = "consent_record"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    consent_text_id: int = Field(foreign_key="consent_text.id", ondelete="RESTRICT")
    booking_id: int | None = Field(default=None, foreign_key="booking.id", ondelete="SET NULL")
    kind: ConsentKind = Field(sa_type=enum_type(ConsentKind))
    language: str = Field(max_length=16)
    version: int
    channel: str = Field(max_length=16)
    text_sha256: str = Field(max_length=64)
    recipients: list[str] = Field(default_factory=list, sa_column=json_column())
    given_at: datetime = Field(default_factory=utcnow)
    withdrawn_at: datetime | None = None


def current_text(
    session: Session, kind: ConsentKind, language: str, municipality_ids: list[int]
) -> ConsentText:
    """The newest version for the most specific municipality that has one, else the default."""
    for municipality_id in [*municipality_ids, None]:
        statement = select(ConsentText).where(
            ConsentText.kind == kind,
            ConsentText.language == language,
            ConsentText.municipality_id == municipality_id,
        )
        found = session.exec(statement.order_by(col(ConsentText.version).desc())).first()
        if found is not None:
            return found
    raise NotFound(f"no consent text {kind} in {language}")


def record_consent(
    session: Session,
    person_id: int,
    text: ConsentText,
    channel: str,
    shown: str,
    recipients: list[str] | None = None,
) -> ConsentRecord:
    """Record consent to `text` as shown (rendered with team names): its SHA-256 is kept."""
    assert text.id is not None
    record = ConsentRecord(
        person_id=person_id,
        consent_text_id=text.id,
        kind=text.kind,
        language=text.language,
        version=text.version,
        channel=channel,
        text_sha256=sha256_hex(shown),
        recipients=recipients or [],
    )
    session.add(record)
    session.flush()
    return record


def withdraw_all(session: Session, person_id: int) -> int:
    statement = select(ConsentRecord).where(
        ConsentRecord.person_id == person_id, col(ConsentRecord.withdrawn_at).is_(None)
    )
    records = list(session.exec(statement))
    for record in records:
        record.withdrawn_at = utcnow()
    return len(records)
