"""Entities: municipality from the places gazetteer (fuzzy), dates and times for booking."""

from __future__ import annotations

from datetime import date

import pytest

from nlu.gazetteer import Gazetteer
from nlu.result import Entity
from nlu.service import BuiltinClassifier
from nlu.temporal import find_dates_and_times, resolve_date


def _found(entities: list[Entity], kind: str) -> list[tuple[str, str]]:
    return [(e.value, e.text) for e in entities if e.entity == kind]


@pytest.mark.parametrize(
    ("text", "slug", "surface"),
    [
        ("Ich wohne in Köln", "koeln", "Köln"),
        ("ich wohne in koln", "koeln", "koln"),
        ("wir sind in Koeln angekommen", "koeln", "Koeln"),
        ("I live in Dormagn now", "dormagen", "Dormagn"),
        ("Я живу в Кельні", "koeln", "Кельні"),
        ("انا ساكن بكولن", None, None),
        ("Termin in Mülheim an der Ruhr bitte", "muelheim-an-der-ruhr", "Mülheim an der Ruhr"),
        ("ich wohne in moers", "moers", "moers"),
    ],
)
def test_municipality_is_found(
    classifier: BuiltinClassifier, text: str, slug: str | None, surface: str | None
) -> None:
    found = _found(classifier.parse(text).entities, "municipality")
    if slug is None:
        assert found == []  # "بكولن" glues the preposition to the name: not guessed
    else:
        assert found == [(slug, surface)]
        entity = next(e for e in classifier.parse(text).entities if e.entity == "municipality")
        assert text[entity.start : entity.end] == surface


def test_common_words_are_not_towns() -> None:
    gazetteer = Gazetteer([("Essen", "essen"), ("Halle (Saale)", "halle")])
    assert gazetteer.find("wo kann ich essen gehen") == []
    assert [e.value for e in gazetteer.find("Ich wohne in Essen")] == ["essen"]


@pytest.mark.parametrize(
    ("text", "dates", "times"),
    [
        ("Kann ich am 14.03. um 10 Uhr kommen?", ["--03-14"], ["10:00"]),
        ("Termin am Montag 14:30", ["weekday:mon"], ["14:30"]),
        ("guten morgen, geht es morgen um 9", ["tomorrow"], ["09:00"]),
        ("on 5 May at 3 pm", ["--05-05"], ["15:00"]),
        ("15.04.2026 10.30 Uhr", ["2026-04-15"], ["10:30"]),
        ("14 марта в 10:00", ["--03-14"], ["10:00"]),
        ("в п'ятницу о 15", ["weekday:fri"], ["15:00"]),
        ("يوم الخميس الساعة ٣", ["weekday:thu"], ["03:00"]),
        ("پنج‌شنبه ساعت ۱۰", ["weekday:thu"], ["10:00"]),
        ("yarın saat 14", ["tomorrow"], ["14:00"]),
        ("bugün olur mu", ["today"], []),
        ("ich bin 25 Jahre alt und habe 3 Kinder", [], []),
    ],
)
def test_dates_and_times(text: str, dates: list[str], times: list[str]) -> None:
    entities = find_dates_and_times(text)
    assert [v for v, _ in _found(entities, "date")] == dates
    assert [v for v, _ in _found(entities, "time")] == times
    for entity in entities:
        assert text[entity.start : entity.end] == entity.text


def test_resolving_relative_dates() -> None:
    friday = date(2026, 11, 20)
    assert resolve_date("tomorrow", friday) == date(2026, 11, 21)
    assert resolve_date("weekday:mon", friday) == date(2026, 11, 23)
    assert resolve_date("weekday:fri", friday) == friday
    assert resolve_date("--03-14", friday) == date(2027, 3, 14)
    assert resolve_date("2026-12-01", friday) == date(2026, 12, 1)
    assert resolve_date("nonsense", friday) is None
