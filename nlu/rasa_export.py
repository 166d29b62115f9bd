"""Writing a Rasa 3.x project (config.yml, domain.yml, data/nlu.yml) from our training data."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import yaml

from nlu.corpus import Example
from nlu.taxonomy import intent_names

ENTITIES = ("municipality", "date", "time")

CONFIG = {
    "recipe": "default.v1",
    "assistant_id": "lotse",
    "language": "xx",  # one multilingual model: whitespace tokens and char n-grams
    "pipeline": [
        {"name": "WhitespaceTokenizer"},
        {"name": "RegexFeaturizer"},
        {"name": "LexicalSyntacticFeaturizer"},
        {"name": "CountVectorsFeaturizer"},
        {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
        {"name": "DIETClassifier", "epochs": 100, "constrain_similarities": True},
        {"name": "EntitySynonymMapper"},
        {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.1},
    ],
    "policies": None,
}


def _nlu_yaml(examples: Sequence[Example], intents: Sequence[str]) -> str:
    grouped: dict[str, list[str]] = defaultdict(list)
    for example in examples:
        text = " ".join(example.text.split())
        if text and text not in grouped[example.intent]:
            grouped[example.intent].append(text)
    lines = ['version: "3.1"', "nlu:"]
    for intent in intents:
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines.extend(f"    - {text}" for text in grouped.get(intent, []))
    return "\n".join(lines) + "\n"


def export_rasa_project(examples: Sequence[Example], target: Path) -> list[Path]:
    """The files written; Rasa reads the same intents and examples we train on."""
    intents = intent_names()
    (target / "data").mkdir(parents=True, exist_ok=True)
    config_path, domain_path, nlu_path = (
        target / "config.yml",
        target / "domain.yml",
        target / "data" / "nlu.yml",
    )
    config_path.write_text(
        yaml.safe_dump(CONFIG, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    domain = {
        "version": "3.1",
        "intents": intents,
        "entities": list(ENTITIES),
        "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True},
    }
    domain_path.write_text(
        yaml.safe_dump(domain, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    nlu_path.write_text(_nlu_yaml(examples, intents), encoding="utf-8")
    return [config_path, domain_path, nlu_path]
