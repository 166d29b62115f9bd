"""The classifier the dialogue engine talks to, and the one place that builds it from Settings."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from core.settings import NluBackend, Settings
from nlu.corpus import DATA_DIR, LANGUAGES, data_hash, load_examples
from nlu.decision import Decision, Fallback, FallbackPolicy, decide, in_scope_candidates
from nlu.emergency import SafetyNet
from nlu.gazetteer import Gazetteer
from nlu.language import UNDETERMINED, LanguageIdentifier, base_tag
from nlu.model import MODEL_VERSION, IntentModel, ModelFileError, load_model, save_model
from nlu.result import EMERGENCY, OUT_OF_SCOPE, Entity, IntentScore, ParseResult
from nlu.temporal import find_dates_and_times
from nlu.training import train_model
from nlu.translation import PIVOT_LANGUAGE, Translator, build_translator

logger = logging.getLogger(__name__)

RANKING_SIZE = 10
# A detected language replaces an unsupported chosen one only when detection is this sure.
SWITCH_CONFIDENCE = 0.9


class Classifier(Protocol):
    def parse(self, text: str, language: str | None = None) -> ParseResult: ...

    async def aparse(self, text: str, language: str | None = None) -> ParseResult: ...


def policy_from(settings: Settings, model: IntentModel) -> FallbackPolicy:
    return FallbackPolicy(settings.nlu_threshold, settings.nlu_margin, model.emergency_floor)


class BuiltinClassifier:
    """In-process classifier: read-only state after construction, so parse is thread-safe."""

    def __init__(
        self,
        model: IntentModel,
        policy: FallbackPolicy,
        places: Sequence[tuple[str, str]] = (),
        translator: Translator | None = None,
    ) -> None:
        self.model = model
        self._policy = policy
        self._gazetteer = Gazetteer(places)
        self._safety_net = SafetyNet()
        self._languages = LanguageIdentifier(model.language_model)
        self._translator = translator

    def parse(self, text: str, language: str | None = None) -> ParseResult:
        tag, supported = self.choose_language(text, language)
        translator = self._translator
        if supported or translator is None or not self._can_translate(tag):
            return self._classify(text, tag, force_fallback=not supported)
        try:
            english = translator.translate(text, base_tag(tag), PIVOT_LANGUAGE)
        except Exception:  # noqa: BLE001 - any translator failure means: no pivot
            logger.warning("nlu translation pivot failed for language %s", tag)
            return self._classify(text, tag, force_fallback=True)
        return self._classify(text, tag, force_fallback=False, classify_text=english)

    async def aparse(self, text: str, language: str | None = None) -> ParseResult:
        """Like parse; a translation pivot runs in a worker thread, never in the event loop."""
        tag, supported = self.choose_language(text, language)
        if not supported and self._can_translate(tag):
            return await asyncio.to_thread(self.parse, text, language)
        return self.parse(text, language)

    def choose_language(self, text: str, language: str | None) -> tuple[str, bool]:
        """The tag to report and whether we classify it directly (we have training data)."""
        if language:
            if base_tag(language) in LANGUAGES:
                return language, True
            guess = self._languages.detect(text)
            if guess.tag in LANGUAGES and guess.confidence >= SWITCH_CONFIDENCE:
                return guess.tag, True
            return language, False
        guess = self._languages.detect(text)
        return guess.tag, guess.tag in LANGUAGES or guess.tag == UNDETERMINED

    def detect_language(self, text: str) -> str:
        return self._languages.detect(text).tag

    def entities(self, text: str) -> list[Entity]:
        found = self._gazetteer.find(text) + find_dates_and_times(text)
        return sorted(found, key=lambda e: e.start)

    def ranking(self, text: str) -> list[IntentScore]:
        return self._ranking(text)[0]

    def _ranking(self, text: str) -> tuple[list[IntentScore], bool]:
        """Best intents first, and whether any known n-gram was seen at all."""
        probs, known = self.model.analyse(text)
        order = probs.argsort()[::-1][:RANKING_SIZE]
        return [IntentScore(self.model.intents[i], float(probs[i])) for i in order], known > 0

    def is_alarm(self, text: str) -> bool:
        return self._safety_net.is_emergency(text)

    def _can_translate(self, tag: str) -> bool:
        return self._translator is not None and self._translator.supports(
            base_tag(tag), PIVOT_LANGUAGE
        )

    def _classify(
        self, text: str, tag: str, force_fallback: bool, classify_text: str | None = None
    ) -> ParseResult:
        source = classify_text if classify_text is not None else text
        if not text.strip():
            return ParseResult(
                text, IntentScore(OUT_OF_SCOPE, 0.0), [], [], tag, Fallback.LOW_CONFIDENCE, []
            )
        ranking, recognised = self._ranking(source)
        alarm = self.is_alarm(text) or (classify_text is not None and self.is_alarm(source))
        if recognised or alarm:
            decision = decide(ranking, self._policy, alarm)
        else:  # nothing we know (emoji, unknown script): the bias alone must not decide
            decision = Decision(IntentScore(OUT_OF_SCOPE, 0.0), Fallback.LOW_CONFIDENCE, [])
        intent, fallback, candidates = decision.intent, decision.fallback, decision.candidates
        if force_fallback and intent.name != EMERGENCY:
            intent = IntentScore(OUT_OF_SCOPE, intent.confidence)
            fallback, candidates = Fallback.LOW_CONFIDENCE, in_scope_candidates(ranking)
        return ParseResult(
            text=text,
            intent=intent,
            intent_ranking=ranking,
            entities=self.entities(text),
            language=tag,
            fallback=str(fallback) if fallback else None,
            candidates=candidates,
            translated=classify_text is not None,
        )


def model_is_current(path: Path, expected_hash: str) -> IntentModel | None:
    """The artefact at path if it was trained on exactly this data by this code, else None."""
    if not path.exists():
        return None
    try:
        model = load_model(path)
    except ModelFileError:
        logger.warning("nlu model artefact unreadable or outdated; retraining")
        return None
    return model if model.data_hash == expected_hash else None


def current_data_hash(data_dir: Path = DATA_DIR) -> str:
    return data_hash([data_dir], salt=MODEL_VERSION)


def load_or_train(settings: Settings, data_dir: Path = DATA_DIR) -> IntentModel:
    """Load the artefact; train and save it first when it is missing or stale."""
    path = settings.resolved_nlu_model_path
    expected = current_data_hash(data_dir)
    model = model_is_current(path, expected)
    if model is None:
        policy = FallbackPolicy(settings.nlu_threshold, settings.nlu_margin, 0.15)
        model, _ = train_model(load_examples([data_dir]), expected, policy)
        save_model(model, path)
    return model


def build_builtin(
    settings: Settings, places: Sequence[tuple[str, str]] = (), data_dir: Path = DATA_DIR
) -> BuiltinClassifier:
    model = load_or_train(settings, data_dir)
    return BuiltinClassifier(model, policy_from(settings, model), places, build_translator())


def build_classifier(settings: Settings, places: Sequence[tuple[str, str]] = ()) -> Classifier:
    """The composition root's single entry point to the NLU."""
    builtin = build_builtin(settings, places)
    if settings.nlu_backend is NluBackend.RASA:
        from nlu.rasa import RasaClassifier

        return RasaClassifier(settings, builtin)
    return builtin
