"""The intent contract (a copy of shared/spec/intents.yml): names are stable identifiers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

SPEC = Path(__file__).with_name("intents.yml")


@dataclass(frozen=True)
class Intent:
    name: str
    kind: str
    means: str


@cache
def all_intents() -> tuple[Intent, ...]:
    data = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    return tuple(Intent(i["name"], i["kind"], i["means"]) for i in data["intents"])


def intent_names() -> tuple[str, ...]:
    return tuple(i.name for i in all_intents())


def topic_names() -> tuple[str, ...]:
    return tuple(i.name for i in all_intents() if i.kind == "topic")
