"""Anonymous counters for the municipality's report: never a person, only counts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date
from functools import cache

from sqlalchemy import Insert, UniqueConstraint, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col


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


@dataclass(frozen=True)
class QuestionCount:
    """One question to count, in a municipality: the turn records it with its other writes at
    its end (see `core.person.save_and_record`)."""

    municipality_id: int
    topic: str
    language: str
    week: date
    answered: bool

    def values(self) -> dict[str, object]:
        return {**asdict(self), "count": 1}


COUNT_KEY = ("municipality_id", "topic", "language", "week", "answered")
COUNT_FIELDS = (*COUNT_KEY, "count")


@cache
def _upsert(dialect: str) -> Insert:
    """The count's upsert for this dialect, built once (building costs more than running)."""
    table = TopicCount.__table__  # Core, not the ORM entity: no ORM work per statement
    upsert = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}[dialect]
    return (
        upsert(table)
        .on_conflict_do_update(
            index_elements=list(COUNT_KEY),
            set_={"count": table.c.count + 1},
        )
        .inline()  # no RETURNING of the id
    )


def count_questions(session: Session, counts: Iterable[QuestionCount]) -> None:
    """Each of a turn's counts as its own statement (see `core.person.save_and_record` for
    the usual case of one, which goes with the turn's last statement)."""
    for count in counts:
        count_question(session, count.municipality_id, count.topic, count.language, count.week, count.answered)


def count_question(
    session: Session,
    municipality_id: int | None,
    topic: str,
    language: str,
    week: date,
    answered: bool,
) -> None:
    """One more question: an atomic increment, so concurrent workers never lose a count.

    With a municipality (nearly always), one upsert; without, the unique key cannot catch a
    NULL, so an UPDATE and, for a new key, an INSERT in a savepoint."""
    connection = session.connection()
    if municipality_id is not None:
        connection.execute(
            _upsert(connection.dialect.name),
            {"municipality_id": municipality_id, "topic": topic, "language": language, "week": week,
             "answered": answered, "count": 1},
        )
        return
    key = (
        col(TopicCount.municipality_id).is_(None),
        col(TopicCount.topic) == topic,
        col(TopicCount.language) == language,
        col(TopicCount.week) == week,
        col(TopicCount.answered) == answered,
    )
    increment = update(TopicCount).where(*key).values(count=TopicCount.count + 1)
    # On the connection: a Core statement, without the ORM's autoflush and bulk-update work.
    if connection.execute(increment).rowcount:
        return
    try:
        with session.begin_nested():
            session.add(TopicCount(municipality_id=municipality_id, topic=topic, language=language,
                                   week=week, answered=answered, count=1))
    except IntegrityError:  # another worker created the row just now
        connection.execute(increment)
