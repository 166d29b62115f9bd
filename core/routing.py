"""Routing rules as data: (municipality, criteria, topic) -> the responsible team."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from core.columns import enum_type, json_column
from core.municipality import Municipality, Team, ancestry

CRITERIA: dict[str, tuple[str, ...]] = {
    "age_band": ("under_18", "18_27", "over_27"),
    "residence_status": (
        "asylum_procedure",
        "duldung",
        "residence_permit",
        "eu_citizen",
        "student",
        "short_visa",
        "other",
        "unknown",
    ),
    "benefits": ("sgb2", "asylblg", "none", "unknown"),
    "years_in_germany": ("up_to_5", "over_5"),
    "household": ("family", "single_parent", "single_man", "single_woman", "unaccompanied_minor"),
}
"""Every criterion a rule may test, with its values, in the order the dialogue asks them."""


class Outcome(StrEnum):
    INTAKE = "intake"
    REFER = "refer"
    ASK_TOWN = "ask_town"


class Offer(StrEnum):
    CASE_MANAGEMENT = "case_management"
    COUNSELLING = "counselling"


class RoutingRule(SQLModel, table=True):
    __tablename__ = "routing_rule"
    __table_args__ = (
        UniqueConstraint("municipality_id", "priority", name="uq_routing_rule_priority"),
    )

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", ondelete="CASCADE", index=True)
    priority: int
    conditions: dict[str, list[str]] = Field(default_factory=dict, sa_column=json_column())
    topics: list[str] = Field(default_factory=list, sa_column=json_column())
    outcome: Outcome = Field(sa_type=enum_type(Outcome))
    team_id: int | None = Field(default=None, foreign_key="team.id", ondelete="RESTRICT")
    offer: Offer | None = Field(default=None, sa_type=enum_type(Offer))
    note: str = Field(default="", max_length=500)

    def matches(self, answers: dict[str, str], topic: str | None) -> bool | None:
        """True/False when decidable; None when an answer the rule needs is still missing."""
        if self.topics and topic not in self.topics:
            return False
        for criterion, accepted in self.conditions.items():
            value = answers.get(criterion)
            if value is None:
                return None
            if value not in accepted:
                return False
        return True


@dataclass(frozen=True)
class Route:
    outcome: Outcome
    team: Team | None
    offer: Offer | None
    rule: RoutingRule
    municipality: Municipality


@dataclass(frozen=True)
class Pending:
    """The rules cannot decide yet: ask this criterion next."""

    criterion: str
    values: tuple[str, ...]


def rules_for(session: Session, municipality: Municipality) -> list[RoutingRule]:
    """Rules of the municipality and its ancestors: most specific level first, then priority."""
    ordered: list[RoutingRule] = []
    for level in ancestry(session, municipality):
        statement = select(RoutingRule).where(RoutingRule.municipality_id == level.id)
        ordered.extend(session.exec(statement.order_by(RoutingRule.priority)))
    return ordered


def route(
    session: Session, municipality: Municipality, answers: dict[str, str], topic: str | None = None
) -> Route | Pending | None:
    """The first matching rule decides; a rule that needs an unanswered criterion asks for it."""
    for rule in rules_for(session, municipality):
        verdict = rule.matches(answers, topic)
        if verdict is None:
            missing = next(c for c in rule.conditions if c not in answers)
            return Pending(missing, CRITERIA[missing])
        if verdict:
            team = session.get(Team, rule.team_id) if rule.team_id is not None else None
            owner = session.get(Municipality, rule.municipality_id)
            assert owner is not None
            return Route(rule.outcome, team, rule.offer, rule, owner)
    return None


def validate_conditions(conditions: dict[str, list[str]]) -> list[str]:
    """Human-readable problems with a rule's conditions (unknown criteria or values)."""
    problems = []
    for criterion, values in conditions.items():
        if criterion not in CRITERIA:
            problems.append(f"unknown criterion {criterion!r}")
            continue
        for value in values:
            if value not in CRITERIA[criterion]:
                problems.append(f"unknown value {value!r} for {criterion}")
    return problems


def default_team(session: Session, municipality: Municipality) -> Team | None:
    """The team for a general request (handoff): the nearest level's first intake team."""
    for level in ancestry(session, municipality):
        statement = select(Team).where(
            Team.municipality_id == level.id, Team.receives_intakes == True  # noqa: E712
        )
        team = session.exec(statement.order_by(Team.id)).first()
        if team is not None:
            return team
    return None
