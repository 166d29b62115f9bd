"""`lotse content translate`: facts survive machine translation; missing models exit 2."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from content.cli import app
from content.loader import load_content
from content.library import translation_status
from content.schema import source_hash
from content.translate import (
    ArgosTranslator,
    ProtectionLost,
    TranslatorUnavailable,
    protect,
    restore,
    translate_file,
)


class ShoutingTranslator:
    """A fake Translator: uppercases everything except the ⟦n⟧ markers, and counts calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def translate(self, text: str, source: str, target: str) -> str:
        self.calls.append((text, source, target))
        return "".join(
            part if re.fullmatch(r"⟦\d+⟧", part) else part.upper()
            for part in re.split(r"(⟦\d+⟧)", text)
        )


class MarkerEatingTranslator:
    def translate(self, text: str, source: str, target: str) -> str:
        return re.sub(r"⟦\d+⟧", "", text)


TOPIC = """\
topic: registration_address
scope: town-a
last_verified: 2026-11-01
verified: false
sources:
  - url: https://www.example.org
answer:
  de:
    text: |
      Gehen Sie zum Bürgerbüro der Stadt A. Lotse hilft.
      Infos: https://www.example.org/anmeldung, buergerbuero@example.org oder 02841 201-0.
  ar:
    text: "سجّل سكنك."
    source_hash: SOURCE
contacts:
  - name: Bürgerbüro der Stadt A
    website: https://www.example.org
checklist:
  - de: Reisepass
    ar: جواز السفر
"""
GERMAN = ("Gehen Sie zum Bürgerbüro der Stadt A. Lotse hilft.\n"
          "Infos: https://www.example.org/anmeldung, buergerbuero@example.org oder 02841 201-0.\n")


@pytest.fixture
def topic_file(tree: Path) -> Path:
    path = tree / "topics/town-a/registration_address.yml"
    path.write_text(TOPIC.replace("SOURCE", source_hash(GERMAN)), encoding="utf-8")
    return path


def test_protect_and_restore_round_trip() -> None:
    text = "Siehe https://www.example.org/a?b=1. Mail: info@example.org, Tel. +49 2841 201-0."
    protected, kept = protect(text, names=["Bürgerbüro der Stadt A"])
    assert kept == ["https://www.example.org/a?b=1", "info@example.org", "+49 2841 201-0"]
    assert "example" not in protected and "2841" not in protected
    assert restore(protected.upper(), kept).startswith("SIEHE https://www.example.org/a?b=1.")


def test_restore_refuses_a_lost_marker() -> None:
    with pytest.raises(ProtectionLost):
        restore("no markers", ["https://www.example.org"])


def test_fills_missing_languages_with_facts_unchanged(tree: Path, topic_file: Path) -> None:
    translator = ShoutingTranslator()
    report = translate_file(topic_file, translator, "tr")
    assert (report.answer, report.checklist_items, report.refused) == (True, 1, [])
    assert {target for _, _, target in translator.calls} == {"tr"}

    content = load_content(tree)
    assert content.problems == []
    topic = content.topics[("town-a", "registration_address")]
    turkish = topic.answer["tr"]
    assert turkish.text == (
        "GEHEN SIE ZUM Bürgerbüro der Stadt A. Lotse HILFT.\n"
        "INFOS: https://www.example.org/anmeldung, buergerbuero@example.org ODER 02841 201-0.\n"
    )
    assert (turkish.machine_translated, turkish.source_hash) == (True, source_hash(GERMAN))
    assert translation_status(topic, "tr") == "machine"
    assert topic.checklist[0]["tr"] == "REISEPASS"
    assert topic.answer["ar"].text == "سجّل سكنك."  # existing translations untouched


def test_existing_translation_is_not_redone(tree: Path, topic_file: Path) -> None:
    translator = ShoutingTranslator()
    report = translate_file(topic_file, translator, "ar")
    assert (report.answer, report.checklist_items, translator.calls) == (False, 0, [])


def test_a_translation_that_loses_a_fact_is_not_written(topic_file: Path) -> None:
    before = topic_file.read_text(encoding="utf-8")
    report = translate_file(topic_file, MarkerEatingTranslator(), "uk")
    assert report.answer is False
    assert report.refused and report.refused[0].startswith("answer:")
    # the checklist item had nothing to protect, so it was translated; the answer was not
    assert topic_file.read_text(encoding="utf-8") == before.replace(
        "    ar: جواز السفر\n", "    ar: جواز السفر\n    uk: Reisepass\n")


def test_dry_run_writes_nothing(tree: Path, topic_file: Path) -> None:
    before = topic_file.read_bytes()
    result = CliRunner().invoke(app, ["translate", "--to", "tr", "--dry-run", "--root", str(tree)])
    assert result.exit_code == 0
    assert "would translate 3 answer(s) and 1 checklist item(s) into tr" in result.output
    assert topic_file.read_bytes() == before


def test_unknown_language_is_refused(tree: Path) -> None:
    result = CliRunner().invoke(app, ["translate", "--to", "xx", "--root", str(tree)])
    assert result.exit_code == 2
    assert "not curated" in result.output


def _argos_has_model(source: str, target: str) -> bool:
    try:
        ArgosTranslator().require(source, target)
    except TranslatorUnavailable:
        return False
    return True


def test_missing_argostranslate_or_model_exits_2_with_a_clear_message(tree: Path) -> None:
    if _argos_has_model("de", "tr"):  # checked here, not at collection: the import is slow
        pytest.skip("a de->tr argostranslate model is installed here")
    before = sorted((p, p.read_bytes()) for p in tree.rglob("*.yml"))
    result = CliRunner().invoke(app, ["translate", "--to", "tr", "--root", str(tree)])
    assert result.exit_code == 2
    expected = "argostranslate is not installed" if importlib.util.find_spec("argostranslate") \
        is None else "no argostranslate model for de->tr"
    assert expected in result.output
    assert sorted((p, p.read_bytes()) for p in tree.rglob("*.yml")) == before
