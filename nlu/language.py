"""Language identification: script rules, a small model trained on our own data, a cld2 hint.

The conversation's chosen language always comes first; detection is a hint for messages
without one and for spotting languages we have no training data for (translation pivot).
"""

from __future__ import annotations

import logging
import math
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from nlu.corpus import LANGUAGES, Example

logger = logging.getLogger(__name__)

UNDETERMINED = "und"
# Letters that only some Arabic-script languages use.
_PASHTO = set("ټډړږښګڼېۍځڅ")
_SORANI = set("ڕڵێۆ")
_URDU = set("ٹڈڑںے")
_PERSIAN = set("پچژگیک")
_ARABIC_ONLY = set("يكةى")
_UKRAINIAN = set("іїєґ")
_RUSSIAN = set("ыэъё")
# Tags that different tools use for one language, mapped to the tag we report.
_ALIASES = {"prs": "fa", "pes": "fa", "iw": "he", "kmr": "ku", "ua": "uk"}


@dataclass(frozen=True)
class LanguageGuess:
    tag: str
    confidence: float


def base_tag(tag: str) -> str:
    """ "de-DE" -> "de", "fa-AF" -> "fa", "prs" -> "fa": the tag our data is keyed by."""
    primary = tag.replace("_", "-").split("-")[0].lower()
    return _ALIASES.get(primary, primary)


def dominant_script(text: str) -> str:
    """ "latin", "arabic", "cyrillic", "ethiopic", "other" or "none" (digits, emoji only)."""
    counts: Counter[str] = Counter()
    for char in text:
        if not char.isalpha():
            continue
        name = unicodedata.name(char, "")
        for script in ("LATIN", "ARABIC", "CYRILLIC", "ETHIOPIC"):
            if name.startswith(script):
                counts[script.lower()] += 1
                break
        else:
            counts["other"] += 1
    return counts.most_common(1)[0][0] if counts else "none"


def _grams(text: str) -> list[str]:
    lowered = f" {' '.join(text.casefold().split())} "
    return [lowered[i : i + n] for n in (1, 2, 3) for i in range(len(lowered) - n + 1)]


@dataclass
class LanguageModel:
    """Multinomial naive Bayes over char 1-3-grams, trained on our training examples."""

    languages: list[str]
    vocabulary: dict[str, int]
    log_probs: npt.NDArray[np.float32]  # (n_grams, n_languages)
    unseen: npt.NDArray[np.float32]  # log prob of an unseen gram per language

    def posterior(self, text: str, allowed: Iterable[str]) -> LanguageGuess:
        keep = [i for i, lang in enumerate(self.languages) if lang in set(allowed)]
        if not keep:
            return LanguageGuess(UNDETERMINED, 0.0)
        grams = _grams(text)
        vocabulary = self.vocabulary
        known = [i for i in (vocabulary.get(g) for g in grams) if i is not None]
        total = self.log_probs[known].sum(axis=0, dtype=np.float64)
        total = total + self.unseen * (len(grams) - len(known))
        chosen = total[keep]
        probs = np.exp(chosen - chosen.max())
        probs /= probs.sum()
        best = int(np.argmax(probs))
        return LanguageGuess(self.languages[keep[best]], float(probs[best]))


def train_language_model(examples: Iterable[Example]) -> LanguageModel:
    counts: dict[str, Counter[str]] = {lang: Counter() for lang in LANGUAGES}
    for example in examples:
        if example.language in counts:
            counts[example.language].update(_grams(example.text))
    grams = sorted(set().union(*counts.values()))
    vocabulary = {gram: i for i, gram in enumerate(grams)}
    matrix = np.zeros((len(grams), len(LANGUAGES)), dtype=np.float32)
    unseen = np.zeros(len(LANGUAGES), dtype=np.float32)
    for column, lang in enumerate(LANGUAGES):
        total = sum(counts[lang].values()) + len(grams) + 1
        unseen[column] = math.log(1 / total)
        for gram, count in counts[lang].items():
            matrix[vocabulary[gram], column] = math.log((count + 1) / total)
        untouched = matrix[:, column] == 0
        matrix[untouched, column] = unseen[column]
    return LanguageModel(list(LANGUAGES), vocabulary, matrix, unseen)


def cld2_hint(text: str) -> LanguageGuess | None:
    """pycld2's answer when it is reliable; None when unsure or not installed."""
    try:
        import pycld2
    except ImportError:
        return None
    try:
        reliable, _, details = pycld2.detect(text)
    except pycld2.error:
        return None
    tag, percent = details[0][1], details[0][2]
    if not reliable or tag in {"un", "xxx"}:
        return None
    return LanguageGuess(base_tag(tag), percent / 100)


class LanguageIdentifier:
    """Decides the language of one message from its script, our model and cld2."""

    def __init__(self, model: LanguageModel) -> None:
        self._model = model

    def detect(self, text: str) -> LanguageGuess:
        script = dominant_script(text)
        letters = set(text.casefold())
        if script == "cyrillic":
            return self._cyrillic(text, letters)
        if script == "arabic":
            return self._arabic(text, letters)
        if script == "latin":
            return self._latin(text)
        if script == "ethiopic":
            hint = cld2_hint(text)
            return hint if hint and hint.tag in {"ti", "am"} else LanguageGuess("ti", 0.5)
        if script == "other":
            return cld2_hint(text) or LanguageGuess(UNDETERMINED, 0.0)
        return LanguageGuess(UNDETERMINED, 0.0)

    def _cyrillic(self, text: str, letters: set[str]) -> LanguageGuess:
        uk, ru = bool(letters & _UKRAINIAN), bool(letters & _RUSSIAN)
        if uk != ru:
            return LanguageGuess("uk" if uk else "ru", 0.95)
        return self._model.posterior(text, ("uk", "ru"))

    def _arabic(self, text: str, letters: set[str]) -> LanguageGuess:
        for tag, marks in (("ps", _PASHTO), ("ckb", _SORANI), ("ur", _URDU)):
            if letters & marks:
                return LanguageGuess(tag, 0.9)
        persian, arabic = bool(letters & _PERSIAN), bool(letters & _ARABIC_ONLY)
        if persian != arabic:
            return LanguageGuess("fa" if persian else "ar", 0.9)
        return self._model.posterior(text, ("ar", "fa"))

    def _latin(self, text: str) -> LanguageGuess:
        ours = self._model.posterior(text, ("de", "en", "tr", "ar", "fa"))
        hint = cld2_hint(text) if len(text) >= 12 else None
        if hint is None:
            return ours
        romanised = ours.tag in {"ar", "fa"} and ours.confidence >= 0.9
        if hint.tag in {"de", "en", "tr"}:
            return ours if ours.tag == hint.tag or romanised else hint
        if len(text) >= 20 and not romanised:
            return hint
        return ours
