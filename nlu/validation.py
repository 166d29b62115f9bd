"""Checks of the training data: the intent contract, label conflicts, duplicates, counts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from rapidfuzz import fuzz, process

from nlu.corpus import LANGUAGES, CorpusError, Example, read_rasa_yaml
from nlu.normalisation import normalise_text
from nlu.taxonomy import intent_names

MIN_EXAMPLES = 10  # fewer examples of an intent in a language: error
RECOMMENDED_EXAMPLES = 20  # fewer: warning
NEAR_DUPLICATE_SCORE = 95.0


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Issue:
    level: Level
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.where}: {self.message}"


def check_data(
    data_dir: Path, min_examples: int = MIN_EXAMPLES, recommended: int = RECOMMENDED_EXAMPLES
) -> list[Issue]:
    """All problems of the per-language files in data_dir, errors first."""
    expected = set(intent_names())
    issues: list[Issue] = []
    examples: list[Example] = []
    for lang in LANGUAGES:
        path = data_dir / f"{lang}.yml"
        where = f"{data_dir.name}/{path.name}"
        if not path.exists():
            issues.append(Issue(Level.ERROR, where, "file missing"))
            continue
        try:
            file_examples = read_rasa_yaml(path, lang)
        except CorpusError as exc:
            issues.append(Issue(Level.ERROR, where, str(exc).removeprefix(f"{path}: ")))
            continue
        examples.extend(file_examples)
        issues.extend(_check_contract(where, file_examples, expected, min_examples, recommended))
    issues.extend(_check_conflicts(examples))
    issues.extend(_check_near_duplicates(examples))
    return sorted(issues, key=lambda i: i.level != Level.ERROR)


def _check_contract(
    name: str, examples: Sequence[Example], expected: set[str], minimum: int, recommended: int
) -> list[Issue]:
    counts: dict[str, int] = defaultdict(int)
    for example in examples:
        counts[example.intent] += 1
    issues = []
    missing = sorted(expected - counts.keys())
    unknown = sorted(counts.keys() - expected)
    if missing:
        issues.append(Issue(Level.ERROR, name, f"missing intents: {', '.join(missing)}"))
    if unknown:
        issues.append(Issue(Level.ERROR, name, f"unknown intents: {', '.join(unknown)}"))
    for intent in sorted(expected & counts.keys()):
        if counts[intent] < minimum:
            issues.append(
                Issue(Level.ERROR, name, f"{intent}: {counts[intent]} examples, need {minimum}")
            )
        elif counts[intent] < recommended:
            issues.append(Issue(Level.WARNING, name, f"{intent}: only {counts[intent]} examples"))
    return issues


def _where(example: Example) -> str:
    source = Path(example.source)
    return f"{source.parent.name}/{source.name}:{example.line}"


def _check_conflicts(examples: Sequence[Example]) -> list[Issue]:
    """The same (normalised) text under two intents, in any languages: the model sees both."""
    seen: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        seen[normalise_text(example.text)].append(example)
    issues = []
    for text, group in seen.items():
        intents = sorted({e.intent for e in group})
        if len(intents) > 1:
            places = ", ".join(f"{_where(e)} ({e.intent})" for e in group)
            issues.append(
                Issue(
                    Level.ERROR,
                    _where(group[0]),
                    f"example {text!r} under {len(intents)} intents: {places}",
                )
            )
        elif len(group) > 1 and len({e.language for e in group}) == 1:
            issues.append(Issue(Level.WARNING, _where(group[1]), f"duplicate example {text!r}"))
    return issues


def _check_near_duplicates(examples: Sequence[Example]) -> list[Issue]:
    """Almost identical texts under different intents in one language (typo-level changes)."""
    issues = []
    by_language: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_language[example.language].append(example)
    for group in by_language.values():
        texts = [normalise_text(e.text) for e in group]
        matrix = process.cdist(
            texts, texts, scorer=fuzz.ratio, score_cutoff=NEAR_DUPLICATE_SCORE, workers=-1
        )
        for i, j in zip(*matrix.nonzero()):
            a, b = group[int(i)], group[int(j)]
            if i < j and a.intent != b.intent and texts[i] != texts[j] and len(texts[i]) > 6:
                issues.append(
                    Issue(
                        Level.WARNING,
                        _where(a),
                        f"near-duplicate of {_where(b)} under {b.intent} "
                        f"({a.intent}): {a.text!r} / {b.text!r}",
                    )
                )
    return issues


def check_leakage(train: Sequence[Example], held_out: Sequence[Example]) -> list[Issue]:
    """Held-out examples that also occur in the training data (after normalisation)."""
    known = {normalise_text(e.text) for e in train}
    return [
        Issue(Level.WARNING, _where(e), f"held-out example also in training data: {e.text!r}")
        for e in held_out
        if normalise_text(e.text) in known
    ]
