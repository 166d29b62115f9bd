"""Cross-checks over the loaded content that one file alone cannot show (see content/FORMAT.md)."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import yaml

from content.loader import _LOADER, ContentSet, Problem, _line_of
from content.schema import FEDERAL, MAX_WORDS, TopicFile, source_hash
from core.intents import topic_names
from core.language import SOURCE_LANGUAGE
from core.routing import validate_conditions

STALE_AFTER = timedelta(days=365)
CONSENT_PLACEHOLDERS = frozenset({"team", "organisation", "retention_days", "recipients"})


class _Lines:
    """Line numbers for cross-check problems: each file is composed once, on demand."""

    def __init__(self, root: Path) -> None:
        self._base = root.parent
        self._nodes: dict[str, yaml.Node | None] = {}

    def relative(self, path: Path) -> str:
        return str(path.relative_to(self._base))

    def of(self, relative: str, loc: tuple[int | str, ...]) -> int | None:
        if relative not in self._nodes:
            try:
                text = (self._base / relative).read_text(encoding="utf-8")
                self._nodes[relative] = yaml.compose(text, Loader=_LOADER)
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                self._nodes[relative] = None
        return _line_of(self._nodes[relative], loc)


def _at(
    lines: _Lines, path: str, loc: tuple[int | str, ...], message: str,
    severity: Literal["error", "warning"] = "error",
) -> Problem:
    return Problem(path, lines.of(path, loc), ".".join(map(str, loc)), message, severity)


def check_content(content: ContentSet, today: date | None = None) -> list[Problem]:
    """The loader's problems plus every cross-check, in file order."""
    lines = _Lines(content.root)
    today = today or date.today()
    problems = list(content.problems)
    problems += _check_municipalities(content, lines)
    problems += _check_teams(content, lines)
    problems += _check_rules(content, lines)
    problems += _check_consents(content, lines)
    for key, topic in sorted(content.topics.items()):
        relative = lines.relative(content.topic_paths[key])
        problems += _check_topic(content, topic, relative, lines, today)
    return problems


def _duplicates(values: Iterable[str]) -> set[str]:
    return {value for value, count in Counter(values).items() if count > 1}


def _check_municipalities(content: ContentSet, lines: _Lines) -> list[Problem]:
    path = lines.relative(content.root / "municipalities.yml")
    problems: list[Problem] = []
    slugs = {m.slug for m in content.municipalities}
    twice_slug = _duplicates(m.slug for m in content.municipalities)
    twice_ags = _duplicates(m.ags for m in content.municipalities)
    for index, entry in enumerate(content.municipalities):
        if entry.slug in twice_slug:
            problems.append(_at(lines, path, (index, "slug"), f"duplicate slug {entry.slug!r}"))
        if entry.ags in twice_ags:
            problems.append(_at(lines, path, (index, "ags"),
                                f"duplicate AGS {entry.ags!r} ({entry.slug})"))
        if entry.parent is None and entry.kind != "state":
            problems.append(_at(lines, path, (index, "parent"),
                                f"{entry.slug}: only the state may have no parent"))
        elif entry.parent is not None and entry.parent not in slugs:
            problems.append(_at(lines, path, (index, "parent"), f"unknown parent {entry.parent!r}"))
    return problems


def _check_teams(content: ContentSet, lines: _Lines) -> list[Problem]:
    path = lines.relative(content.root / "teams.yml")
    problems: list[Problem] = []
    slugs = {m.slug for m in content.municipalities}
    twice = _duplicates(t.slug for t in content.teams)
    for index, team in enumerate(content.teams):
        if team.slug in twice:
            problems.append(_at(lines, path, (index, "slug"), f"duplicate team slug {team.slug!r}"))
        if team.municipality not in slugs:
            problems.append(_at(lines, path, (index, "municipality"),
                                f"unknown municipality {team.municipality!r}"))
        if not team.verified and team.website is None:
            problems.append(_at(lines, path, (index, "website"),
                                f"{team.slug}: unverified team without a website link", "warning"))
    return problems


def _check_rules(content: ContentSet, lines: _Lines) -> list[Problem]:
    path = lines.relative(content.root / "routing.yml")
    problems: list[Problem] = []
    slugs = {m.slug for m in content.municipalities}
    teams = {t.slug: t for t in content.teams}
    known_topics = set(topic_names())
    twice = _duplicates(f"{r.municipality} {r.priority}" for r in content.rules)
    for index, rule in enumerate(content.rules):
        if rule.municipality not in slugs:
            problems.append(_at(lines, path, (index, "municipality"),
                                f"unknown municipality {rule.municipality!r}"))
        if f"{rule.municipality} {rule.priority}" in twice:
            problems.append(_at(lines, path, (index, "priority"),
                                f"priority {rule.priority} used twice for {rule.municipality}"))
        for criterion, values in rule.when.items():
            for message in validate_conditions({criterion: values}):
                problems.append(_at(lines, path, (index, "when", criterion), message))
        for topic in rule.topics:
            if topic not in known_topics:
                problems.append(_at(lines, path, (index, "topics"), f"unknown topic {topic!r}"))
        if rule.outcome == "intake" and rule.team is None:
            problems.append(_at(lines, path, (index, "team"), "outcome intake needs a team"))
        if rule.team is not None and rule.team not in teams:
            problems.append(_at(lines, path, (index, "team"), f"unknown team {rule.team!r}"))
        elif rule.team is not None and rule.outcome == "intake" \
                and not teams[rule.team].receives_intakes:
            problems.append(_at(lines, path, (index, "team"),
                                f"team {rule.team!r} does not receive intakes"))
    return problems


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _check_consents(content: ContentSet, lines: _Lines) -> list[Problem]:
    path = lines.relative(content.root / "consent.yml")
    problems: list[Problem] = []
    for index, entry in enumerate(content.consents):
        unknown = _placeholders(entry.binding_de) - CONSENT_PLACEHOLDERS
        if unknown:
            problems.append(_at(lines, path, (index, "binding_de"),
                                f"unknown placeholder(s) {sorted(unknown)}"))
        german = entry.texts.get(SOURCE_LANGUAGE)
        if german is None:
            problems.append(_at(lines, path, (index, "texts"), "the German text (de) is required"))
            continue
        for language, translation in entry.texts.items():
            for part in ("summary", "full"):
                loc = (index, "texts", language, part)
                found = _placeholders(getattr(translation, part))
                expected = _placeholders(getattr(german, part))
                if found - CONSENT_PLACEHOLDERS:
                    unknown = found - CONSENT_PLACEHOLDERS
                    problems.append(_at(lines, path, loc,
                                        f"unknown placeholder(s) {sorted(unknown)}"))
                elif found != expected:
                    problems.append(_at(lines, path, loc, f"placeholders {sorted(found)} differ "
                                                          f"from German {sorted(expected)}"))
    return problems


def _check_topic(
    content: ContentSet, topic: TopicFile, path: str, lines: _Lines, today: date
) -> list[Problem]:
    problems: list[Problem] = []

    def problem(
        loc: tuple[int | str, ...], message: str,
        severity: Literal["error", "warning"] = "error",
    ) -> None:
        problems.append(_at(lines, path, loc, message, severity))

    known_topics = set(topic_names())
    slugs = {m.slug for m in content.municipalities}
    teams = {t.slug for t in content.teams}
    if topic.topic not in known_topics:
        problem(("topic",), f"unknown topic {topic.topic!r} (not a kind:topic intent)")
    if topic.scope != FEDERAL and topic.scope not in slugs:
        problem(("scope",), f"unknown municipality {topic.scope!r}")
    for index, related in enumerate(topic.related):
        if related not in known_topics:
            problem(("related", index), f"unknown topic {related!r}")
        elif related == topic.topic:
            problem(("related", index), "a topic is not related to itself", "warning")
    for index, contact in enumerate(topic.contacts):
        if contact.team is not None and contact.team not in teams:
            problem(("contacts", index, "team"), f"unknown team {contact.team!r}")
        if not contact.verified and contact.website is None:
            problem(("contacts", index, "website"),
                    f"unverified contact {contact.name!r} without a website link", "warning")
    if not topic.verified and not topic.sources and not any(c.website for c in topic.contacts):
        problem(("verified",), "unverified facts without a website link (sources or contacts)",
                "warning")
    if today - topic.last_verified > STALE_AFTER:
        problem(("last_verified",), f"last verified {topic.last_verified}, more than 12 months "
                                    "ago", "warning")
    german = source_hash(topic.answer[SOURCE_LANGUAGE].text)
    for language, translation in topic.answer.items():
        if translation.words > MAX_WORDS:
            problem(("answer", language, "text"),
                    f"{translation.words} words; at most {MAX_WORDS}")
        if language == SOURCE_LANGUAGE:
            continue
        if translation.source_hash is None:
            problem(("answer", language), "no source_hash: run `lotse content stamp` after "
                                          "reviewing", "warning")
        elif translation.source_hash != german:
            problem(("answer", language, "source_hash"),
                    f"outdated: translated from German text {translation.source_hash}, "
                    f"current is {german}; update it, then `lotse content stamp --all`")
    problems.extend(_check_text_facts(topic, path, lines))
    return problems


_PHONE_IN_TEXT = re.compile(r"(?<![\w/.])(?:\+49|0)[1-9][0-9 /-]{5,}[0-9]")


def _check_text_facts(topic: TopicFile, path: str, lines: _Lines) -> list[Problem]:
    """Phone numbers belong in contacts, not in answer text (FORMAT.md, text style)."""
    problems = []
    for language, translation in topic.answer.items():
        for match in _PHONE_IN_TEXT.finditer(translation.text):
            number = re.sub(r"[ /-]", "", match.group())
            if number.startswith(("0800111", "116")):
                continue
            loc = ("answer", language, "text")
            problems.append(_at(lines, path, loc, f"phone number {match.group()!r} in text: "
                                                  "put it into contacts", "warning"))
    return problems


def summarise(problems: list[Problem]) -> str:
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    return f"{errors} error(s), {warnings} warning(s)"


# Personal-data heuristics (documented in FORMAT.md, "Editor tooling"). Content names offices,
# never people: a contact name of two or three capitalised words with no office word in it
# ("Anna Schmidt") or with a salutation ("Frau Schmidt", "Dr. Weber") looks like a person.
_OFFICE_WORDS = (
    "amt", "stelle", "büro", "buero", "dienst", "beratung", "zentrum", "service", "team",
    "verwaltung", "stadt", "kreis", "gemeinde", "land", "bund", "polizei", "notruf", "hotline",
    "telefon", "seelsorge", "jobcenter", "agentur", "verein", "verband", "caritas", "diakonie",
    "awo", "drk", "integration", "migration", "haus", "schule", "hilfe", "netz", "behörde",
    "gmbh", "e.v", "ministerium", "regierung", "nrw", "germany", "deutschland", "portal",
    "management", "rat", "online", "finder", "feuerwehr", "rettung", "bereitschaft", "kummer",
    "info", "kontakt", "contact", "office", "post", "mail", "termin", "anmeldung", "presse",
    "webmaster", "sozial", "jugend", "vhs", "ausländer", "auslaender", "zuwanderung", "flücht",
    "fluecht", "refugee", "support", "noreply", "no-reply", "welcome", "willkommen", "ki", "kim",
    "jmd", "mbe", "bamf",
)
_SALUTATION = re.compile(r"(?<!\w)(Herr|Frau|Hr\.|Fr\.|Dr\.|Prof\.)(?!\w)")
_WORD = r"[A-ZÄÖÜ][a-zäöüßéèáàíóúçğışñ]+"
_NAME_WORD = re.compile(rf"{_WORD}(?:-{_WORD})?")


def _has_office_word(text: str) -> bool:
    """Long office words count inside compounds ("Sozialamt"); short ones only as whole words."""
    lowered = text.lower()
    tokens = set(re.split(r"[^\w.]+", lowered))
    return any(word in tokens if len(word) <= 4 else word in lowered for word in _OFFICE_WORDS)


def looks_like_person_name(name: str) -> bool:
    if _SALUTATION.search(name):
        return True
    words = name.split()
    return 2 <= len(words) <= 3 and all(_NAME_WORD.fullmatch(w) for w in words) \
        and not _has_office_word(name)


def looks_personal_email(email: str) -> bool:
    """first.last@ or f.last@ with no office word in the local part."""
    local = email.split("@", 1)[0].lower()
    return bool(re.fullmatch(r"[a-zäöüß]+[._-][a-zäöüß]{2,}", local)) \
        and not _has_office_word(local.replace(".", " "))
