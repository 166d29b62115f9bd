"""Finds the municipality a user means from a typed name, alias or postcode (fuzzy)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from content.loader import ContentSet


def fold(text: str) -> str:
    """Lowercase without accents; ß -> ss, ä -> a (users type 'Koln', 'Muenster', 'Köln')."""
    text = text.casefold().replace("ß", "ss").replace("ae", "a").replace("oe", "o").replace("ue", "u")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


@dataclass(frozen=True)
class PlaceMatch:
    slug: str
    name: str
    score: float


class PlaceIndex:
    def __init__(self, content: ContentSet) -> None:
        self._names: dict[str, str] = {m.slug: m.name for m in content.municipalities}
        self._forms: list[tuple[str, str]] = []
        self._postcodes: dict[str, str] = {}
        for m in content.municipalities:
            for form in {m.slug, *m.names.values(), *m.aliases}:
                self._forms.append((fold(form), m.slug))
            for code in m.postcodes:
                self._postcodes[code] = m.slug
        self._choices = [form for form, _ in self._forms]

    def surface_forms(self) -> list[tuple[str, str]]:
        return list(self._forms)

    def name_of(self, slug: str) -> str:
        return self._names.get(slug, slug)

    def search(self, query: str, limit: int = 3) -> list[PlaceMatch]:
        query = query.strip()[:100]
        digits = "".join(c for c in query if c.isdigit())
        if len(digits) == 5 and digits in self._postcodes:
            slug = self._postcodes[digits]
            return [PlaceMatch(slug, self._names[slug], 100.0)]
        folded = fold(query)
        if not folded:
            return []
        found = process.extract(folded, self._choices, scorer=fuzz.WRatio, limit=limit * 4)
        best: dict[str, PlaceMatch] = {}
        for _, score, index in found:
            slug = self._forms[index][1]
            if score >= 70 and (slug not in best or best[slug].score < score):
                best[slug] = PlaceMatch(slug, self._names[slug], float(score))
        return sorted(best.values(), key=lambda m: -m.score)[:limit]
