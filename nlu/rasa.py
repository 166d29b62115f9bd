"""Adapter for an external Rasa server (POST /model/parse), with the builtin model as fallback.

Rasa 3.x cannot share our Python environment, so it runs as a separate process; when it
errs, answers nonsense or is too slow, the builtin classifier answers instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import httpx

from core.settings import Settings
from nlu.decision import FallbackPolicy, decide
from nlu.result import OUT_OF_SCOPE, Entity, IntentScore, ParseResult
from nlu.service import BuiltinClassifier, policy_from

logger = logging.getLogger(__name__)

RASA_FALLBACK_INTENT = "nlu_fallback"


class RasaResponseError(ValueError):
    """The Rasa server answered, but not with a /model/parse body."""


class RasaClassifier:
    """Classifies with Rasa; language, safety net, thresholds and fallback stay ours."""

    def __init__(
        self,
        settings: Settings,
        builtin: BuiltinClassifier,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._builtin = builtin
        self._policy: FallbackPolicy = policy_from(settings, builtin.model)
        self._client = httpx.Client(
            base_url=settings.rasa_url.rstrip("/"),
            timeout=settings.rasa_timeout_s,
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def parse(self, text: str, language: str | None = None) -> ParseResult:
        tag, supported = self._builtin.choose_language(text, language)
        if not supported:
            return self._builtin.parse(text, language)
        try:
            body = self._post(text)
            ranking = ranking_from_rasa(body)
            rasa_entities = entities_from_rasa(body)
        except httpx.TimeoutException:
            logger.warning("rasa /model/parse timed out; using the builtin model")
            return self._builtin.parse(text, language)
        except (httpx.HTTPError, RasaResponseError, ValueError) as exc:
            logger.warning(
                "rasa /model/parse failed (%s); using the builtin model", type(exc).__name__
            )
            return self._builtin.parse(text, language)
        decision = decide(ranking, self._policy, self._builtin.is_alarm(text))
        own = self._builtin.entities(text)
        kinds = {e.entity for e in rasa_entities}
        entities = sorted(
            rasa_entities + [e for e in own if e.entity not in kinds], key=lambda e: e.start
        )
        return ParseResult(
            text=text,
            intent=decision.intent,
            intent_ranking=ranking,
            entities=entities,
            language=tag,
            fallback=str(decision.fallback) if decision.fallback else None,
            candidates=decision.candidates,
        )

    async def aparse(self, text: str, language: str | None = None) -> ParseResult:
        """The HTTP call blocks, so it runs in a worker thread."""
        return await asyncio.to_thread(self.parse, text, language)

    def _post(self, text: str) -> Mapping[str, object]:
        response = self._client.post("/model/parse", json={"text": text})
        response.raise_for_status()
        body = response.json()
        if not isinstance(body, dict):
            raise RasaResponseError("body is not a JSON object")
        return body


def _score(raw: object) -> IntentScore:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
        raise RasaResponseError("intent without a name")
    confidence = raw.get("confidence")
    if not isinstance(confidence, int | float):
        raise RasaResponseError("intent without a numeric confidence")
    name = OUT_OF_SCOPE if raw["name"] == RASA_FALLBACK_INTENT else str(raw["name"])
    return IntentScore(name, float(confidence))


def ranking_from_rasa(body: Mapping[str, object]) -> list[IntentScore]:
    """Rasa's intent_ranking (or its single intent), nlu_fallback renamed, best first.

    Rasa's FallbackClassifier puts nlu_fallback on top with the threshold as confidence;
    we drop it and apply our own thresholds to the real intents underneath.
    """
    raw_ranking = body.get("intent_ranking")
    if isinstance(raw_ranking, list) and raw_ranking:
        scores = [
            _score(item)
            for item in raw_ranking
            if not (isinstance(item, Mapping) and item.get("name") == RASA_FALLBACK_INTENT)
        ]
    else:
        scores = []
    if not scores:
        scores = [_score(body.get("intent"))]
    return sorted(scores, key=lambda s: s.confidence, reverse=True)


def entities_from_rasa(body: Mapping[str, object]) -> list[Entity]:
    raw = body.get("entities") or []
    if not isinstance(raw, list):
        raise RasaResponseError("entities is not a list")
    text = str(body.get("text", ""))
    entities = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise RasaResponseError("entity is not an object")
        start, end = int(item.get("start", 0)), int(item.get("end", 0))
        entities.append(
            Entity(
                str(item.get("entity", "")),
                str(item.get("value", "")),
                start,
                end,
                str(item.get("text", text[start:end])),
            )
        )
    return entities
