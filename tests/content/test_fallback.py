"""The fallback chain on a synthetic tree: town -> Kreis -> state -> federal, language first."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.content.content_trees import GERMAN, topic_yaml, write

from content.library import ContentLibrary
from content.loader import load_content


def library_of(root: Path) -> ContentLibrary:
    content = load_content(root)
    assert content.problems == []
    return ContentLibrary(content)


@pytest.mark.parametrize(
    ("language", "scope", "level", "text"),
    [
        ("de", "town-a", "local", "Stadt: Melden Sie Ihre Wohnung an."),
        ("en", "town-a", "local", "Town: register."),
        ("uk", "kreis-a", "kreis", "Округ."),
        ("ar", "land", "state", "الولاية: سجّل."),
        ("fa", "federal", "federal", "فدرال: ثبت کنید."),
        ("tr", "federal", "federal", "Federal."),
    ],
)
def test_same_language_along_the_chain(
    tree: Path, language: str, scope: str, level: str, text: str
) -> None:
    answer = library_of(tree).answer_for("registration_address", "town-a", language)
    assert answer is not None
    assert (answer.scope, answer.level, answer.text, answer.language) == \
        (scope, level, text, language)
    assert answer.primary_scope == "town-a"
    assert answer.general_fallback is (scope != "town-a")
    assert answer.language_fallback is False


def test_kreisfreie_stadt_goes_to_the_state_then_federal(tree: Path) -> None:
    library = library_of(tree)
    assert library.chain("city-b") == ["city-b", "land", "federal"]
    arabic = library.answer_for("registration_address", "city-b", "ar")
    english = library.answer_for("registration_address", "city-b", "en")
    assert arabic is not None and english is not None
    assert (arabic.level, arabic.primary_scope) == ("state", "land")
    assert (english.level, english.text) == ("federal", "Federal: register.")


def test_german_when_the_language_is_nowhere_in_the_chain(tree: Path) -> None:
    write(tree, "topics/kreis-a/housing.yml",
          topic_yaml("housing", "kreis-a", {"de": GERMAN, "en": "Register."}))
    answer = library_of(tree).answer_for("housing", "town-a", "ar")
    assert answer is not None
    assert (answer.language, answer.requested_language, answer.level) == ("de", "ar", "kreis")
    assert answer.language_fallback is True
    assert answer.general_fallback is False  # kreis-a is the most specific file for housing


def test_no_answer_when_no_level_has_the_topic(tree: Path) -> None:
    library = library_of(tree)
    assert library.answer_for("housing", "town-a", "de") is None
    assert library.answer_for("registration_address", "nowhere", "de") is not None  # federal


def test_outdated_translation_is_served_with_its_status(tree: Path) -> None:
    path = tree / "topics/town-a/registration_address.yml"
    path.write_text(path.read_text().replace("Stadt: Melden", "Stadt: Bitte melden"))
    library = library_of(tree)
    english = library.answer_for("registration_address", "town-a", "en")
    german = library.answer_for("registration_address", "town-a", "de")
    assert english is not None and german is not None
    assert (english.status, german.status) == ("outdated", "reviewed")
