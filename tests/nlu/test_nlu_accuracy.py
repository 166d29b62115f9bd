"""Every intent in every language, measured on the held-out split (nlu/eval/<lang>.yml)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from nlu.corpus import LANGUAGES, Example
from nlu.evaluation import build_report, predict_all
from nlu.service import BuiltinClassifier
from nlu.taxonomy import intent_names

# Held-out accuracy per language measured when this test was written, minus 0.05.
MIN_ACCURACY = {"de": 0.68, "en": 0.65, "ar": 0.74, "uk": 0.79, "ru": 0.78, "fa": 0.83, "tr": 0.87}
# (language, intent) pairs measured below one half; they must not get worse.
# At least a quarter of each (language, intent) held-out set must be right: every intent is
# recognised in every language. The overall figures (macro-F1 0.84, below the 0.90 goal) are
# reported by `lotse nlu evaluate`; these pairs are the known weak spots, floors as measured.
DEFAULT_FLOOR = 0.25
KNOWN_WEAK = {
    ("ru", "mental_health"): 0.16,
    ("en", "privacy_info"): 0.16,
}


@pytest.fixture(scope="module")
def correct_by_pair(
    classifier: BuiltinClassifier, held_out: list[Example]
) -> dict[tuple[str, str], list[bool]]:
    results: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for prediction in predict_all(classifier.parse, held_out):
        example = prediction.example
        results[(example.language, example.intent)].append(prediction.intent == example.intent)
    return results


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("intent", intent_names())
def test_held_out_examples_of_each_intent_are_mostly_right(
    correct_by_pair: dict[tuple[str, str], list[bool]], language: str, intent: str
) -> None:
    outcomes = correct_by_pair[(language, intent)]
    assert outcomes, f"no held-out examples for {language}/{intent}"
    share = sum(outcomes) / len(outcomes)
    assert share >= KNOWN_WEAK.get((language, intent), DEFAULT_FLOOR), f"{language}/{intent}: {share:.2f}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_accuracy_per_language(
    correct_by_pair: dict[tuple[str, str], list[bool]], language: str
) -> None:
    outcomes = [ok for (lang, _), oks in correct_by_pair.items() if lang == language for ok in oks]
    assert sum(outcomes) / len(outcomes) >= MIN_ACCURACY[language]


def test_safety_figures_on_the_held_out_split(
    classifier: BuiltinClassifier, held_out: list[Example]
) -> None:
    summary = build_report(predict_all(classifier.parse, held_out))["summary"]
    assert summary["emergency_recall"] >= 0.95  # type: ignore[index]
    assert summary["out_of_scope_recall"] >= 0.75  # type: ignore[index]
    assert summary["in_scope_fallback_rate"] <= 0.10  # type: ignore[index]
    assert summary["macro_f1"] >= 0.80  # type: ignore[index]
