"""Import of Integreat API v3 pages and locations into topic files, adding nothing of our own.

Pages are matched to topics by patterns in a mapping file; the German page text becomes the
answer (shortened at a sentence end when too long), the page URL the source; locations become
structured contacts with only the fields Integreat gives. Everything imported is
`verified: false` until an editor has checked it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from content.check import looks_personal_email
from content.editor import TopicEditor
from content.schema import MAX_WORDS, TopicFile
from core.language import SOURCE_LANGUAGE

DEFAULT_MAPPING = Path(__file__).with_name("integreat_mapping.yml")
_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_BLOCKS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
           "section", "article", "blockquote"}
_PHONE = re.compile(r"^\+?[0-9][0-9 /()-]{1,30}$")


@dataclass(frozen=True)
class Rule:
    topic: str
    patterns: dict[str, re.Pattern[str]]

    def matches(self, fields: dict[str, str]) -> bool:
        return any(p.search(fields.get(name, "")) for name, p in self.patterns.items())


@dataclass(frozen=True)
class Mapping:
    pages: list[Rule]
    locations: list[Rule]


def load_mapping(path: Path = DEFAULT_MAPPING) -> Mapping:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}

    def rules(items: list[dict[str, str]]) -> list[Rule]:
        return [
            Rule(item["topic"], {k: re.compile(v, re.IGNORECASE)
                                 for k, v in item.items() if k != "topic"})
            for item in items or []
        ]

    return Mapping(rules(data.get("pages", [])), rules(data.get("locations", [])))


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(self._skip - 1, 0)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    lines = (re.sub(r"\s+", " ", line).strip() for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line and line != "-")


def shorten(text: str, max_words: int = MAX_WORDS) -> str:
    """The leading whole sentences that fit in `max_words` (at least the first line's start)."""
    if len(text.split()) <= max_words:
        return text
    sentences = re.findall(r"[^.!?\n]+[.!?]*\n?|\n", text)
    kept: list[str] = []
    for sentence in sentences:
        if len("".join([*kept, sentence]).split()) > max_words:
            break
        kept.append(sentence)
    result = "".join(kept).strip()
    return result or " ".join(text.split()[:max_words])


def opening_hours(days: list[dict[str, Any]] | None) -> tuple[list[str], bool]:
    """Integreat's seven days (Monday first) as OSM-style strings; all need an appointment?"""
    hours: list[str] = []
    booked: list[bool] = []
    for name, day in zip(_DAYS, days or [], strict=False):
        if day.get("closed"):
            continue
        booked.append(bool(day.get("appointmentOnly")))
        if day.get("allDay"):
            hours.append(f"{name} 00:00-24:00")
            continue
        slots = [f"{s['start']}-{s['end']}" for s in day.get("timeSlots") or []
                 if s.get("start") and s.get("end")]
        if slots:
            hours.append(f"{name} {','.join(slots)}")
    return hours, bool(booked) and all(booked)


def location_contact(location: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A contact from one location, with only the facts given; notes on what was dropped."""
    notes: list[str] = []
    place = location.get("location") or {}
    people = [c for c in location.get("contacts") or [] if isinstance(c, dict)]
    first = people[0] if people else {}
    phone = location.get("phone_number") or first.get("phone_number")
    email = location.get("email") or first.get("email")
    website = location.get("website") or first.get("website")
    if phone and not _PHONE.match(phone):
        notes.append(f"{location.get('title')}: phone {phone!r} not in a usable form, dropped")
        phone = None
    if email and looks_personal_email(email):
        notes.append(f"{location.get('title')}: a personal e-mail address was dropped")
        email = None
    street = ", ".join(
        part for part in (place.get("address"),
                          " ".join(p for p in (place.get("postcode"), place.get("town")) if p))
        if part
    )
    hours, appointment_only = opening_hours(location.get("opening_hours"))
    contact = {
        "name": location.get("title") or place.get("name"),
        "kind": "office",
        "address": street or None,
        "opening_hours": hours,
        "appointment_only": appointment_only,
        "phone": phone,
        "email": email,
        "website": website or location.get("url"),
        "booking_url": location.get("appointment_url"),
        "verified": False,
    }
    return contact, notes


@dataclass
class ImportResult:
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # topic -> topic file data
    notes: list[str] = field(default_factory=list)


def build_topic_files(
    pages: list[dict[str, Any]], locations: list[dict[str, Any]], mapping: Mapping, scope: str,
    language: str = SOURCE_LANGUAGE,
) -> ImportResult:
    result = ImportResult()
    for page in sorted(pages, key=lambda p: (p.get("order") or 0, p.get("id") or 0)):
        fields = {"path": page.get("path") or "", "title": page.get("title") or ""}
        rule = next((r for r in mapping.pages if r.matches(fields)), None)
        if rule is None:
            result.notes.append(f"page {fields['title']!r} ({fields['path']}): no topic, skipped")
            continue
        text = html_to_text(page.get("content") or "")
        if not text:
            result.notes.append(f"page {fields['title']!r}: empty, skipped")
            continue
        source = {"url": page["url"], "title": f"{fields['title']} (Integreat)"}
        existing = result.files.get(rule.topic)
        if existing is not None:
            existing["sources"].append(source)
            continue
        updated = str(page.get("last_updated") or "")[:10]
        result.files[rule.topic] = {
            "topic": rule.topic,
            "scope": scope,
            "last_verified": date.fromisoformat(updated) if updated else date.today(),
            "verified": False,
            "sources": [source],
            "related": [],
            "answer": {language: {"text": shorten(text) + "\n"}},
            "contacts": [],
            "checklist": [],
        }
    for location in locations:
        fields = {"title": location.get("title") or "",
                  "category": (location.get("category") or {}).get("name") or ""}
        rule = next((r for r in mapping.locations if r.matches(fields)), None)
        if rule is None or rule.topic not in result.files:
            result.notes.append(f"location {fields['title']!r}: no imported topic, skipped")
            continue
        contact, notes = location_contact(location)
        result.notes += notes
        result.files[rule.topic]["contacts"].append(contact)
    return result


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value.strip() else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_text)


def write_topic_files(result: ImportResult, out: Path, language: str) -> list[str]:
    """New files are written whole (German only); other languages join existing files."""
    written: list[str] = []
    out.mkdir(parents=True, exist_ok=True)
    for topic, data in sorted(result.files.items()):
        path = out / f"{topic}.yml"
        if path.exists():
            editor = TopicEditor(path)
            if language in (editor.data.get("answer") or {}):
                result.notes.append(f"{path}: has {language} already, not overwritten")
                continue
            editor.set(("answer",), language, dict(data["answer"][language]))
            editor.save()
            written.append(str(path))
            continue
        if language != SOURCE_LANGUAGE:
            result.notes.append(f"{topic}: no German file yet in {out}; import de first")
            continue
        try:
            TopicFile.model_validate(data)
        except ValidationError as exc:
            result.notes.append(f"{topic}: not written, invalid: {exc.errors()[0]['msg']}")
            continue
        header = "# Imported from Integreat: check every fact, then set verified: true.\n"
        body = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
        path.write_text(header + body, encoding="utf-8")
        written.append(str(path))
    return written
