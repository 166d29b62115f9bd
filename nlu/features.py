"""Character and word n-gram features of a normalised message (one function for train and run)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FeatureSpec:
    """Which n-grams to extract; stored in the artefact so inference matches training."""

    char_min: int = 2
    char_max: int = 5
    word_max: int = 2


def extract_ngrams(normalised: str, spec: FeatureSpec) -> list[str]:
    """char_wb n-grams (as scikit-learn builds them) plus word n-grams prefixed with "w:"."""
    grams: list[str] = []
    words = normalised.split()
    for word in words:
        padded = f" {word} "
        length = len(padded)
        for n in range(spec.char_min, spec.char_max + 1):
            if n > length:
                break
            grams.extend(padded[i : i + n] for i in range(length - n + 1))
    for n in range(1, spec.word_max + 1):
        grams.extend("w:" + " ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return grams
