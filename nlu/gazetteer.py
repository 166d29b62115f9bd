"""Municipality entity: finds town names from the places list, accent-insensitive and fuzzy."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from rapidfuzz import fuzz, process

from nlu.normalisation import fold_for_matching
from nlu.result import Entity

_TOKEN = re.compile(r"\w+(?:['’ʼ-]\w+)*")
# Town names that are also everyday German words: only matched when written capitalised.
COMMON_WORDS = frozenset({"essen", "halle", "hof", "rain", "weil", "lage", "wangen", "brake"})
MAX_WORDS = 4


def _cutoff(length: int) -> float | None:
    """Fuzzy score needed for a span of this length; None means exact match only."""
    if length <= 4:
        return None
    if length <= 6:
        return 80.0
    return 85.0


class Gazetteer:
    """Read-only after construction, so one instance serves all threads."""

    def __init__(self, places: Sequence[tuple[str, str]]) -> None:
        self._exact: dict[str, str] = {}
        self._buckets: dict[str, list[str]] = defaultdict(list)
        for surface, slug in places:
            folded = " ".join(fold_for_matching(surface).split())
            if not folded:
                continue
            self._exact.setdefault(folded, slug)
            if folded[0] not in self._buckets or folded not in self._buckets[folded[0]]:
                self._buckets[folded[0]].append(folded)

    def __bool__(self) -> bool:
        return bool(self._exact)

    def find(self, text: str) -> list[Entity]:
        if not self._exact:
            return []
        folded = fold_for_matching(text)
        tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(folded)]
        found: list[tuple[float, int, int, str]] = []
        for size in range(MAX_WORDS, 0, -1):
            for first in range(len(tokens) - size + 1):
                start, end = tokens[first][0], tokens[first + size - 1][1]
                match = self._match(" ".join(folded[start:end].split()))
                if match is not None and self._allowed(text[start:end], match[1]):
                    found.append((match[0] + size, start, end, match[1]))
        return self._non_overlapping(text, found)

    def _match(self, span: str) -> tuple[float, str] | None:
        slug = self._exact.get(span)
        if slug is not None:
            return 100.0, span
        cutoff = _cutoff(len(span))
        bucket = self._buckets.get(span[:1])
        if cutoff is None or not bucket:
            return None
        best = process.extractOne(span, bucket, scorer=fuzz.ratio, score_cutoff=cutoff)
        return None if best is None else (float(best[1]), str(best[0]))

    @staticmethod
    def _allowed(raw: str, name: str) -> bool:
        return name not in COMMON_WORDS or raw[:1].isupper()

    def _non_overlapping(self, text: str, found: list[tuple[float, int, int, str]]) -> list[Entity]:
        chosen: list[Entity] = []
        for _, start, end, name in sorted(found, key=lambda f: (-f[0], f[1])):
            if any(start < e.end and e.start < end for e in chosen):
                continue
            chosen.append(Entity("municipality", self._exact[name], start, end, text[start:end]))
        return sorted(chosen, key=lambda e: e.start)
