"""The in-memory index behind `answer_for`: built once at start-up, read without I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from content.loader import ContentSet, chain_of
from content.schema import FEDERAL, Contact, Source, TopicFile, source_hash
from core.language import SOURCE_LANGUAGE

Level = Literal["local", "kreis", "state", "federal"]
Status = Literal["reviewed", "machine", "outdated", "unverified"]
_LEVEL_OF_KIND: dict[str, Level] = {
    "town": "local",
    "kreisfreie_stadt": "local",
    "kreis": "kreis",
    "state": "state",
}


@dataclass(frozen=True)
class Answer:
    topic: str
    text: str
    language: str  # the language of `text`
    requested_language: str
    level: Level  # where the text comes from
    scope: str
    primary_scope: str  # the most specific scope that has this topic
    contacts: tuple[Contact, ...]
    checklist: tuple[str, ...]
    sources: tuple[Source, ...]
    related: tuple[str, ...]
    verified: bool
    status: Status

    @property
    def language_fallback(self) -> bool:
        return self.language != self.requested_language

    @property
    def general_fallback(self) -> bool:
        """The text is more general than the most specific content for this place."""
        return self.scope != self.primary_scope


def translation_status(topic: TopicFile, language: str) -> Status:
    translation = topic.answer[language]
    if language != SOURCE_LANGUAGE:
        german = topic.answer[SOURCE_LANGUAGE].text
        if translation.source_hash and translation.source_hash != source_hash(german):
            return "outdated"
        if translation.machine_translated:
            return "machine"
    return "reviewed" if topic.verified else "unverified"


class ContentLibrary:
    def __init__(self, content: ContentSet) -> None:
        self._topics = dict(content.topics)
        self._chains = {m.slug: chain_of(content, m.slug) for m in content.municipalities}
        self._kinds = {m.slug: m.kind for m in content.municipalities}
        self._cache: dict[tuple[str, str, str], Answer | None] = {}

    def level_of(self, scope: str) -> Level:
        return "federal" if scope == FEDERAL else _LEVEL_OF_KIND[self._kinds[scope]]

    def chain(self, municipality: str | None) -> list[str]:
        return self._chains.get(municipality or "", [FEDERAL])

    def answer_for(self, topic: str, municipality: str | None, language: str) -> Answer | None:
        key = (topic, municipality or "", language)
        if key not in self._cache:
            self._cache[key] = self._resolve(topic, municipality, language)
        return self._cache[key]

    def _resolve(self, topic: str, municipality: str | None, language: str) -> Answer | None:
        files = [
            (scope, self._topics[(scope, topic)])
            for scope in self.chain(municipality)
            if (scope, topic) in self._topics
        ]
        if not files:
            return None
        primary_scope = files[0][0]
        chosen = None
        for wanted in (language, SOURCE_LANGUAGE, "en"):
            chosen = next(((s, f) for s, f in files if wanted in f.answer), None)
            if chosen:
                text_language = wanted
                break
        assert chosen is not None  # every file has German
        scope, file = chosen
        with_contacts = next((f for _, f in files if f.contacts), file)
        with_checklist = next((f for _, f in files if f.checklist), file)
        checklist = tuple(
            item.get(text_language) or item[SOURCE_LANGUAGE] for item in with_checklist.checklist
        )
        return Answer(
            topic=topic,
            text=file.answer[text_language].text.strip(),
            language=text_language,
            requested_language=language,
            level=self.level_of(scope),
            scope=scope,
            primary_scope=primary_scope,
            contacts=tuple(with_contacts.contacts),
            checklist=checklist,
            sources=tuple(file.sources),
            related=tuple(files[0][1].related),
            verified=all(f.verified for _, f in files[:1]) and file.verified,
            status=translation_status(file, text_language),
        )

    def topics_of(self, scope: str) -> list[str]:
        return sorted(t for s, t in self._topics if s == scope)
