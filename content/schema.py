"""The shape of content files, validated with precise messages (see content/FORMAT.md)."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from core.language import CURATED

ContactKind = Literal["office", "hotline", "website", "counselling"]
MunicipalityKindName = Literal["state", "kreis", "kreisfreie_stadt", "town"]
FEDERAL = "federal"
MAX_WORDS = 120


def source_hash(text: str) -> str:
    """The fingerprint a translation records of the German text it was made from."""
    return hashlib.sha256(text.strip().encode()).hexdigest()[:12]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Translation(Strict):
    text: str = Field(min_length=1)
    machine_translated: bool = False
    source_hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{12}$")

    @property
    def words(self) -> int:
        return len(self.text.split())


class Source(Strict):
    url: HttpUrl
    title: str | None = None


class Contact(Strict):
    name: str = Field(min_length=1)
    kind: ContactKind = "office"
    team: str | None = None
    address: str | None = None
    opening_hours: list[str] = Field(default_factory=list)
    appointment_only: bool = False
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9][0-9 /()-]{1,30}$")
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
    website: HttpUrl | None = None
    booking_url: HttpUrl | None = None
    verified: bool = False


class TopicFile(Strict):
    topic: str
    scope: str
    last_verified: date
    verified: bool
    sources: list[Source] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list, max_length=6)
    answer: dict[str, Translation]
    contacts: list[Contact] = Field(default_factory=list)
    checklist: list[dict[str, str]] = Field(default_factory=list)

    @field_validator("answer")
    @classmethod
    def _languages_known(cls, value: dict[str, Translation]) -> dict[str, Translation]:
        unknown = sorted(set(value) - set(CURATED))
        if unknown:
            raise ValueError(f"unknown language(s) {unknown}; curated: {list(CURATED)}")
        if "de" not in value:
            raise ValueError("the German source text (de) is required")
        return value

    @field_validator("checklist")
    @classmethod
    def _checklist_has_german(cls, value: list[dict[str, str]]) -> list[dict[str, str]]:
        for index, item in enumerate(value):
            if "de" not in item:
                raise ValueError(f"checklist item {index} has no German (de) text")
            unknown = sorted(set(item) - set(CURATED))
            if unknown:
                raise ValueError(f"checklist item {index}: unknown language(s) {unknown}")
        return value


class MunicipalityEntry(Strict):
    slug: str = Field(pattern=r"^[a-z0-9-]+$")
    ags: str = Field(pattern=r"^[0-9]{2,8}$")
    kind: MunicipalityKindName
    parent: str | None
    names: dict[str, str]
    aliases: list[str] = Field(default_factory=list)
    postcodes: list[str] = Field(default_factory=list)
    website: HttpUrl | None = None
    languages: list[str] = Field(default_factory=lambda: list(CURATED))
    timezone: str = "Europe/Berlin"
    channels: dict[str, bool] = Field(default_factory=lambda: {"telegram": True, "webchat": True})

    @property
    def name(self) -> str:
        return self.names.get("de") or next(iter(self.names.values()))


class TeamEntry(Strict):
    slug: str = Field(pattern=r"^[a-z0-9-]+$")
    municipality: str
    name: str
    kind: str
    organisation: str
    organisation_kind: Literal["public", "provider"]
    languages: list[str] = Field(default_factory=lambda: ["de"])
    website: HttpUrl | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    office_hours: list[str] = Field(default_factory=list)
    receives_intakes: bool = True
    verified: bool = False
    source: str | None = None


class RuleEntry(Strict):
    municipality: str
    priority: int
    when: dict[str, list[str]] = Field(default_factory=dict)
    topics: list[str] = Field(default_factory=list)
    outcome: Literal["intake", "refer", "ask_town"]
    team: str | None = None
    offer: Literal["case_management", "counselling"] | None = None
    note: str = ""


class ConsentTranslation(Strict):
    summary: str = Field(min_length=1)
    full: str = Field(min_length=1)


class ConsentEntry(Strict):
    kind: Literal["data_protection", "confidentiality_release"]
    version: int = Field(ge=1)
    municipality: str | None = None
    binding_de: str = Field(min_length=1)
    texts: dict[str, ConsentTranslation]
