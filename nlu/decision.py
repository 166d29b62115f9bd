"""Turning a ranking of intents into a decision: confident intent, emergency, or fallback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from nlu.result import EMERGENCY, OUT_OF_SCOPE, IntentScore

MAX_CANDIDATES = 3
MIN_CANDIDATE_CONFIDENCE = 0.03
EMERGENCY_TOP_K = 3


class Fallback(StrEnum):
    LOW_CONFIDENCE = "low_confidence"
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True)
class FallbackPolicy:
    """Thresholds on calibrated probabilities (settings.nlu_threshold / nlu_margin)."""

    threshold: float
    margin: float
    emergency_floor: float


@dataclass(frozen=True)
class Decision:
    intent: IntentScore
    fallback: Fallback | None
    candidates: list[IntentScore]


def in_scope_candidates(ranking: Sequence[IntentScore]) -> list[IntentScore]:
    """Up to three in-scope intents worth offering as "did you mean" buttons."""
    picked = [
        s for s in ranking if s.name != OUT_OF_SCOPE and s.confidence >= MIN_CANDIDATE_CONFIDENCE
    ]
    return picked[:MAX_CANDIDATES]


def decide(ranking: Sequence[IntentScore], policy: FallbackPolicy, alarm: bool) -> Decision:
    """Apply the emergency rules first, then the confidence and ambiguity thresholds.

    `alarm` is the keyword safety net's verdict; `ranking` is sorted, best first.
    """
    if not ranking:
        return Decision(IntentScore(OUT_OF_SCOPE, 0.0), Fallback.LOW_CONFIDENCE, [])
    if alarm:
        return Decision(IntentScore(EMERGENCY, 1.0), None, [])
    for score in ranking[:EMERGENCY_TOP_K]:
        if score.name == EMERGENCY and score.confidence >= policy.emergency_floor:
            return Decision(score, None, [])
    top = ranking[0]
    runner_up = ranking[1].confidence if len(ranking) > 1 else 0.0
    if top.confidence < policy.threshold:
        fallback: Fallback | None = Fallback.LOW_CONFIDENCE
    elif top.confidence - runner_up < policy.margin:
        fallback = Fallback.AMBIGUOUS
    else:
        fallback = None
    if fallback is None:
        return Decision(top, None, [])
    return Decision(
        IntentScore(OUT_OF_SCOPE, top.confidence), fallback, in_scope_candidates(ranking)
    )
