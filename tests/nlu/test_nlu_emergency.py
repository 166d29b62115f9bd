"""Emergency must never be missed: held-out recall and the keyword safety net per language."""

from __future__ import annotations

import pytest

from nlu.corpus import Example
from nlu.emergency import SafetyNet
from nlu.service import BuiltinClassifier


def test_held_out_emergency_recall(classifier: BuiltinClassifier, held_out: list[Example]) -> None:
    emergencies = [e for e in held_out if e.intent == "emergency"]
    assert len(emergencies) >= 50
    caught = [
        e for e in emergencies if classifier.parse(e.text, e.language).intent.name == "emergency"
    ]
    assert len(caught) / len(emergencies) >= 0.95


@pytest.mark.parametrize(
    "text",
    [
        "Bitte 112, mein Vater atmet nicht",
        "Mein Mann schlägt mich",
        "I want to kill myself",
        "he is beating me right now",
        "زوجي يضربني",
        "بدي انتحر",
        "میخوام خودکشی کنم",
        "ambulans çağırın, annem bayıldı",
        "Он не дышит",
        "Він не дихає, викличте швидку допомогу",
        "call ١١٢",
    ],
)
def test_safety_net_fires_in_every_language(classifier: BuiltinClassifier, text: str) -> None:
    assert SafetyNet().is_emergency(text)
    assert classifier.parse(text).intent.name == "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "Termin am 11.02. um 10 Uhr",
        "ich habe 110 Euro bekommen",
        "meine Hausnummer ist 1120",
        "is there an emergency shelter fund question about 110 EUR",
        "ne oluyor şimdi",
        "дякую за швидку відповідь",
    ],
)
def test_safety_net_ignores_numbers_and_lookalikes(text: str) -> None:
    assert not SafetyNet().is_emergency(text)
