"""Language: the chosen language wins; otherwise script rules, our model and a cld2 hint."""

from __future__ import annotations

import pytest

from nlu.language import base_tag, dominant_script
from nlu.service import BuiltinClassifier


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ich brauche einen Termin bei der Ausländerbehörde", "de"),
        ("I need help with a letter from the job centre", "en"),
        ("Oturma iznimi nasıl uzatabilirim", "tr"),
        ("أريد أن أتعلم اللغة الألمانية", "ar"),
        ("می‌خواهم زبان آلمانی یاد بگیرم", "fa"),
        ("Де можна знайти житло для сім'ї", "uk"),
        ("Где можно найти жильё для семьи", "ru"),
        ("mar7aba, bde 2a3mel mawe3ed", "ar"),
        ("زه غواړم چې د بانک حساب پرانیزم", "ps"),
        ("Je voudrais ouvrir un compte bancaire s'il vous plaît", "fr"),
        ("Waxaan rabaa inaan furo akoon bangi", "so"),
    ],
)
def test_detection_by_script_and_model(
    classifier: BuiltinClassifier, text: str, expected: str
) -> None:
    assert classifier.detect_language(text) == expected


def test_chosen_language_comes_first(classifier: BuiltinClassifier) -> None:
    assert classifier.parse("hallo", "tr").language == "tr"
    assert classifier.parse("Я хочу записатися", "uk").language == "uk"


def test_unsupported_language_without_translation_falls_back(classifier: BuiltinClassifier) -> None:
    result = classifier.parse("Je voudrais ouvrir un compte bancaire s'il vous plaît")
    assert result.language == "fr"
    assert result.intent.name == "out_of_scope" and result.fallback == "low_confidence"
    assert not result.translated


def test_chosen_unsupported_language_yields_to_a_clearly_supported_message(
    classifier: BuiltinClassifier,
) -> None:
    result = classifier.parse("Хочу відкрити рахунок у банку", "ps")
    assert result.language == "uk" and result.intent.name == "bank_account"


def test_tags_and_scripts() -> None:
    assert base_tag("de-DE") == "de" and base_tag("prs") == "fa" and base_tag("fa_AF") == "fa"
    assert dominant_script("Привіт") == "cyrillic" and dominant_script("سلام") == "arabic"
    assert dominant_script("112!") == "none"
