"""The 40 intents (nlu/intents.yml, a copy of the shared spec): names and kinds."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

SPEC_FILE = Path(__file__).resolve().parent / "intents.yml"


@dataclass(frozen=True)
class IntentSpec:
    name: str
    kind: str
    means: str


@cache
def intent_specs(path: Path = SPEC_FILE) -> tuple[IntentSpec, ...]:
    """The intents in spec order; cached because the file ships with the code."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(
        IntentSpec(str(item["name"]), str(item["kind"]), str(item.get("means", "")))
        for item in document["intents"]
    )


def intent_names(path: Path = SPEC_FILE) -> list[str]:
    return [spec.name for spec in intent_specs(path)]
