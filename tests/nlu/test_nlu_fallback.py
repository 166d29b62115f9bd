"""Fallback: nonsense and off-topic messages come out as out_of_scope; emergencies never do."""

from __future__ import annotations

import pytest

from nlu.decision import Fallback, FallbackPolicy, decide
from nlu.result import IntentScore
from nlu.service import BuiltinClassifier


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("asdkjh qwpoe zzxv", "de"),
        ("wie wird das wetter am wochenende", "de"),
        ("who won the football match yesterday", "en"),
        ("give me a recipe for pancakes", "en"),
        ("какая завтра погода", "ru"),
        ("bugün maç kaç kaç bitti", "tr"),
        ("🙂🙂🙂", None),
    ],
)
def test_off_topic_and_nonsense_fall_back(
    classifier: BuiltinClassifier, text: str, language: str | None
) -> None:
    result = classifier.parse(text, language)
    assert result.intent.name == "out_of_scope"
    assert result.intent_ranking[0].confidence <= 1.0


def test_low_confidence_gives_in_scope_candidates(classifier: BuiltinClassifier) -> None:
    # The policy is under test, not how sure today's data makes the model about "Termin":
    # a threshold no ranking reaches and no margin rule, so only low confidence can apply.
    strict = BuiltinClassifier(classifier.model, FallbackPolicy(0.999, 0.0, 0.5))
    result = strict.parse("Termin", "de")
    assert result.intent.name == "out_of_scope"
    assert result.fallback == Fallback.LOW_CONFIDENCE
    assert 1 <= len(result.candidates) <= 3
    assert "out_of_scope" not in {c.name for c in result.candidates}
    assert {c.name for c in result.candidates} & {
        "book_appointment",
        "appointment_status",
        "reschedule_appointment",
        "cancel_appointment",
    }


def test_ambiguous_ranking_falls_back_with_both_candidates() -> None:
    ranking = [
        IntentScore("housing", 0.41),
        IntentScore("registration_address", 0.38),
        IntentScore("out_of_scope", 0.1),
        IntentScore("school", 0.05),
    ]
    decision = decide(ranking, FallbackPolicy(0.35, 0.08, 0.15), alarm=False)
    assert decision.intent.name == "out_of_scope"
    assert decision.fallback is Fallback.AMBIGUOUS
    assert [c.name for c in decision.candidates] == ["housing", "registration_address", "school"]


def test_confident_top_intent_passes() -> None:
    ranking = [IntentScore("housing", 0.8), IntentScore("registration_address", 0.1)]
    decision = decide(ranking, FallbackPolicy(0.35, 0.08, 0.15), alarm=False)
    assert (
        decision.intent.name == "housing" and decision.fallback is None and not decision.candidates
    )


def test_emergency_in_the_top_three_wins_over_a_stronger_intent() -> None:
    ranking = [
        IntentScore("health_care", 0.6),
        IntentScore("mental_health", 0.2),
        IntentScore("emergency", 0.16),
    ]
    assert decide(ranking, FallbackPolicy(0.35, 0.08, 0.15), alarm=False).intent.name == "emergency"
    assert (
        decide(ranking, FallbackPolicy(0.35, 0.08, 0.2), alarm=False).intent.name == "health_care"
    )


def test_the_safety_net_overrides_any_ranking() -> None:
    ranking = [IntentScore("greet", 0.99)]
    decision = decide(ranking, FallbackPolicy(0.35, 0.08, 0.15), alarm=True)
    assert decision.intent == IntentScore("emergency", 1.0) and decision.fallback is None


def test_empty_message_falls_back(classifier: BuiltinClassifier) -> None:
    result = classifier.parse("   ", "de")
    assert result.intent.name == "out_of_scope" and result.fallback == "low_confidence"
