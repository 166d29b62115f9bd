"""Municipalities (a hierarchy keyed by AGS) and the teams that receive intakes."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from core.columns import enum_type, json_column
from core.errors import NotFound


class MunicipalityKind(StrEnum):
    STATE = "state"
    KREIS = "kreis"
    KREISFREIE_STADT = "kreisfreie_stadt"
    TOWN = "town"


class OrganisationKind(StrEnum):
    PUBLIC = "public"
    PROVIDER = "provider"


class Municipality(SQLModel, table=True):
    __tablename__ = "municipality"
    __table_args__ = (
        UniqueConstraint("ags", name="uq_municipality_ags"),
        UniqueConstraint("slug", name="uq_municipality_slug"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ags: str = Field(max_length=12)
    slug: str = Field(max_length=64, index=True)
    name: str = Field(max_length=200)
    names: dict[str, str] = Field(default_factory=dict, sa_column=json_column())
    kind: MunicipalityKind = Field(sa_type=enum_type(MunicipalityKind))
    parent_id: int | None = Field(
        default=None, foreign_key="municipality.id", ondelete="RESTRICT", index=True
    )
    languages: list[str] = Field(default_factory=list, sa_column=json_column())
    timezone: str = Field(default="Europe/Berlin", max_length=64)
    website: str | None = Field(default=None, max_length=500)
    telegram_enabled: bool = True
    webchat_enabled: bool = True


class Team(SQLModel, table=True):
    __tablename__ = "team"
    __table_args__ = (UniqueConstraint("slug", name="uq_team_slug"),)

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, index=True)
    municipality_id: int = Field(foreign_key="municipality.id", ondelete="RESTRICT", index=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=40)
    organisation: str = Field(max_length=200)
    organisation_kind: OrganisationKind = Field(sa_type=enum_type(OrganisationKind))
    languages: list[str] = Field(default_factory=list, sa_column=json_column())
    website: str | None = Field(default=None, max_length=500)
    phone: str | None = Field(default=None, max_length=60)
    email: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=300)
    office_hours: list[str] = Field(default_factory=list, sa_column=json_column())
    receives_intakes: bool = True
    verified: bool = False
    slot_minutes: int = Field(default=45, gt=0)
    buffer_minutes: int = Field(default=15, ge=0)
    horizon_days: int = Field(default=28, gt=0)
    min_notice_hours: int = Field(default=12, ge=0)


def municipality_by_slug(session: Session, slug: str) -> Municipality:
    found = session.exec(select(Municipality).where(Municipality.slug == slug)).first()
    if found is None:
        raise NotFound(f"municipality {slug!r}")
    return found


def team_by_slug(session: Session, slug: str) -> Team:
    found = session.exec(select(Team).where(Team.slug == slug)).first()
    if found is None:
        raise NotFound(f"team {slug!r}")
    return found


def ancestry(session: Session, municipality: Municipality) -> list[Municipality]:
    """The municipality and its parents, most specific first (town -> Kreis -> state)."""
    chain = [municipality]
    seen = {municipality.id}
    current = municipality
    while current.parent_id is not None and current.parent_id not in seen:
        parent = session.get(Municipality, current.parent_id)
        if parent is None:
            break
        chain.append(parent)
        seen.add(parent.id)
        current = parent
    return chain


def children(session: Session, municipality: Municipality) -> list[Municipality]:
    statement = select(Municipality).where(Municipality.parent_id == municipality.id)
    return list(session.exec(statement.order_by(Municipality.name)))
