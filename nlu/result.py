"""What the NLU returns for one message, shaped so it converts 1:1 to Rasa's /model/parse."""

from __future__ import annotations

from dataclasses import dataclass, field

OUT_OF_SCOPE = "out_of_scope"
EMERGENCY = "emergency"


@dataclass(frozen=True)
class IntentScore:
    name: str
    confidence: float

    def to_rasa(self) -> dict[str, object]:
        return {"name": self.name, "confidence": round(self.confidence, 6)}


@dataclass(frozen=True)
class Entity:
    entity: str  # "municipality" | "date" | "time"
    value: str  # slug, ISO date ("2025-03-14", "--03-14"), relative day, "weekday:mon", "14:30"
    start: int
    end: int
    text: str

    def to_rasa(self) -> dict[str, object]:
        return {
            "entity": self.entity,
            "value": self.value,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "confidence_entity": 1.0,
            "extractor": "lotse",
        }


@dataclass(frozen=True)
class ParseResult:
    text: str
    intent: IntentScore
    intent_ranking: list[IntentScore]
    entities: list[Entity]
    language: str  # BCP-47 tag used or detected
    fallback: str | None  # None | "low_confidence" | "ambiguous"
    candidates: list[IntentScore] = field(default_factory=list)  # "did you mean" options
    translated: bool = False  # classified through the translation pivot

    def to_rasa(self) -> dict[str, object]:
        """The body Rasa's POST /model/parse would answer, plus our extra keys."""
        return {
            "text": self.text,
            "intent": self.intent.to_rasa(),
            "intent_ranking": [score.to_rasa() for score in self.intent_ranking],
            "entities": [entity.to_rasa() for entity in self.entities],
            "language": self.language,
            "fallback": self.fallback,
            "candidates": [score.to_rasa() for score in self.candidates],
            "translated": self.translated,
        }
