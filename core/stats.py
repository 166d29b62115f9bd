"""Anonymous counters for the municipality's report: never a person, only counts."""

from __future__ import annotations

from datetime import date

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select


class TopicCount(SQLModel, table=True):
    __tablename__ = "topic_count"
    __table_args__ = (
        UniqueConstraint(
            "municipality_id", "topic", "language", "week", "answered", name="uq_topic_count_key"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int | None = Field(
        default=None, foreign_key="municipality.id", ondelete="CASCADE"
    )
    topic: str = Field(max_length=64)
    language: str = Field(max_length=16)
    week: date
    answered: bool = True
    count: int = 0


def count_question(
    session: Session,
    municipality_id: int | None,
    topic: str,
    language: str,
    week: date,
    answered: bool,
) -> None:
    row = session.exec(
        select(TopicCount).where(
            TopicCount.municipality_id == municipality_id,
            TopicCount.topic == topic,
            TopicCount.language == language,
            TopicCount.week == week,
            TopicCount.answered == answered,
        )
    ).first()
    if row is None:
        row = TopicCount(
            municipality_id=municipality_id,
            topic=topic,
            language=language,
            week=week,
            answered=answered,
        )
        session.add(row)
    row.count += 1
