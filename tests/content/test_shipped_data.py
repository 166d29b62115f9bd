"""The shipped content: it checks clean, covers every model municipality, holds no personal data."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from content.check import check_content, looks_like_person_name, looks_personal_email
from content.coverage import coverage_rows
from content.library import ContentLibrary
from content.loader import DEFAULT_ROOT, ContentSet, load_content
from core.intents import topic_names
from core.language import CURATED

# DOMAIN.md §8: the twelve model municipalities of "Einwanderung gestalten NRW"
MODEL_MUNICIPALITIES = (
    "koeln", "kreis-lippe", "rheine", "dormagen", "moers", "muenster", "hamm", "bielefeld",
    "wuppertal", "dortmund", "muelheim-an-der-ruhr", "rheinisch-bergischer-kreis",
)
NATIONWIDE_NUMBERS = {"110", "112", "116117", "116016", "116111", "08001110111", "08001110222"}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w+])(?:\+\d{2} ?(?:\(0\) ?)?|0)\d[\d /()-]{4,}\d")
DATE_LIKE = re.compile(r"^\d{2}/\d{4}$")  # "08/2018" in a source note
SLUGS = [entry.split("slug: ")[1] for entry in
         (DEFAULT_ROOT / "municipalities.yml").read_text(encoding="utf-8").splitlines()
         if entry.startswith("- slug: ")]


@pytest.fixture(scope="module")
def shipped() -> ContentSet:
    return load_content(DEFAULT_ROOT)


@pytest.fixture(scope="module")
def library(shipped: ContentSet) -> ContentLibrary:
    return ContentLibrary(shipped)


def _digits(number: str) -> str:
    digits = re.sub(r"\D", "", number)
    return "0" + digits[2:] if number.startswith("+49") else digits


def test_check_passes_without_errors(shipped: ContentSet) -> None:
    errors = [str(p) for p in check_content(shipped, today=date.today()) if p.severity == "error"]
    assert errors == []


def test_no_missing_answers_for_model_municipalities(shipped: ContentSet,
                                                     library: ContentLibrary) -> None:
    rows = coverage_rows(shipped, library)
    assert {r.municipality for r in rows} >= set(MODEL_MUNICIPALITIES)
    missing = [(r.municipality, r.topic, r.language) for r in rows
               if r.municipality in MODEL_MUNICIPALITIES and r.level == "missing"]
    assert missing == []
    assert len([r for r in rows if r.municipality in MODEL_MUNICIPALITIES]) \
        == len(MODEL_MUNICIPALITIES) * len(topic_names()) * len(CURATED)


@pytest.mark.parametrize("slug", SLUGS)
def test_every_municipality_resolves_every_topic(library: ContentLibrary, slug: str) -> None:
    unresolved = [
        (topic, language) for topic in topic_names() for language in CURATED
        if library.answer_for(topic, slug, language) is None
    ]
    assert unresolved == []


def test_contacts_and_teams_name_offices_not_people(shipped: ContentSet) -> None:
    """Heuristic (FORMAT.md): two or three capitalised words with no office word, or a
    salutation (Frau, Herr, Dr.), look like a person's name."""
    names = [c.name for topic in shipped.topics.values() for c in topic.contacts]
    names += [t.name for t in shipped.teams] + [t.organisation for t in shipped.teams]
    assert names, "no contacts found: the scan would prove nothing"
    assert [n for n in names if looks_like_person_name(n)] == []


def test_no_personal_email_or_unofficial_phone_number_in_any_file(shipped: ContentSet) -> None:
    """E-mails must be functional; phone numbers must be nationwide ones or structured
    contact/team numbers (municipalities.yml is skipped: AGS and postcodes are not phones)."""
    official = {_digits(c.phone) for t in shipped.topics.values() for c in t.contacts if c.phone}
    official |= {_digits(t.phone) for t in shipped.teams if t.phone}
    allowed = official | NATIONWIDE_NUMBERS
    personal, unofficial = [], []
    files = [p for p in sorted(Path(DEFAULT_ROOT).rglob("*.yml")) if p.name != "municipalities.yml"]
    assert len(files) > 4
    for path in files:
        text = path.read_text(encoding="utf-8")
        personal += [(path.name, m) for m in EMAIL.findall(text) if looks_personal_email(m)]
        unofficial += [(str(path), m) for m in PHONE.findall(text)
                       if _digits(m) not in allowed and not DATE_LIKE.match(m)]
    assert personal == []
    assert unofficial == []


def test_the_personal_data_heuristics_can_fail() -> None:
    assert looks_like_person_name("Erika Mustermann")
    assert looks_like_person_name("Frau Yılmaz")
    assert not looks_like_person_name("Bürgerbüro der Stadt Moers")
    assert not looks_like_person_name("Kreis Lippe")
    assert looks_personal_email("erika.mustermann@example.org")
    assert not looks_personal_email("integration@example.org")
