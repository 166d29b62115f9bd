"""`lotse content stamp`: hashes are added in place; every other byte stays as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.content.content_trees import GERMAN
from typer.testing import CliRunner

from content.editor import EditError, TopicEditor, stamp_file
from content.loader import load_content
from content.schema import source_hash

RTL_FILE = """\
# Kommentar: bleibt erhalten
topic: housing
scope: federal
last_verified: 2026-11-01
verified: true
sources:
  - url: https://www.example.org   # Quelle
answer:
  de:
    text: |
      Melden Sie Ihre Wohnung an.
      Fragen Sie im Bürgerbüro.
  ar:
    text: |
      سجّل سكنك.   (Bürgerbüro)
      اسأل في مكتب المواطنين ‏«Bürgerbüro»‏.

    machine_translated: false
  fa: {text: "محل سکونت خود را ثبت کنید.\u200c", machine_translated: true}
  en:
    text: "Register your flat."
    source_hash: null
contacts: []
"""

GERMAN_HASH = source_hash("Melden Sie Ihre Wohnung an.\nFragen Sie im Bürgerbüro.\n")


def test_rtl_text_survives_load_and_stamp_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "data/topics/federal/housing.yml"
    path.parent.mkdir(parents=True)
    path.write_bytes(RTL_FILE.encode("utf-8"))
    original = path.read_bytes()

    assert stamp_file(path) == ["ar", "fa", "en"]

    stamped = path.read_bytes()
    expected = (
        original
        .replace(b"    machine_translated: false\n",
                 b"    machine_translated: false\n    source_hash: " + GERMAN_HASH.encode() + b"\n")
        .replace(b"machine_translated: true}",
                 b"machine_translated: true, source_hash: " + GERMAN_HASH.encode() + b"}")
        .replace(b"source_hash: null", b"source_hash: " + GERMAN_HASH.encode())
    )
    assert stamped == expected
    arabic = "سجّل سكنك.   (Bürgerbüro)\n      اسأل في مكتب المواطنين ‏«Bürgerbüro»‏."
    assert arabic.encode() in stamped
    topic = load_content(tmp_path / "data").topics[("federal", "housing")]
    assert topic.answer["fa"].text == "محل سکونت خود را ثبت کنید.\u200c"
    assert {t.source_hash for lang, t in topic.answer.items() if lang != "de"} == {GERMAN_HASH}


def test_stamp_leaves_recorded_hashes_unless_all(tree: Path) -> None:
    path = tree / "topics/town-a/registration_address.yml"
    path.write_text(path.read_text().replace("Stadt: Melden", "Stadt: Bitte melden"))
    before = path.read_text()
    assert stamp_file(path) == []
    assert path.read_text() == before  # outdated stays outdated until reviewed

    assert stamp_file(path, restamp=True) == ["en"]
    new_hash = source_hash("Stadt: Bitte melden Sie Ihre Wohnung an.")
    assert path.read_text() == before.replace(source_hash("Stadt: " + GERMAN), new_hash)


def test_cli_stamps_the_whole_tree(tree: Path) -> None:
    path = tree / "topics/kreis-a/registration_address.yml"
    recorded = f"    source_hash: {source_hash('Kreis: ' + GERMAN)}\n"
    path.write_text(path.read_text().replace(recorded, ""))
    from content.cli import app

    result = CliRunner().invoke(app, ["stamp", "--root", str(tree)])
    assert result.exit_code == 0
    assert result.output.strip().endswith("stamped 1 translation(s); 0 file(s) failed")
    assert load_content(tree).topics[("kreis-a", "registration_address")].answer["uk"] \
        .source_hash == source_hash("Kreis: " + GERMAN)


def test_files_that_cannot_be_edited_safely_are_left_alone(tmp_path: Path) -> None:
    scalar = tmp_path / "scalar.yml"
    scalar.write_text("answer:\n  de: {text: a}\n  en: just text\n", encoding="utf-8")
    broken = tmp_path / "broken.yml"
    broken.write_text("answer:\n  de: [\n", encoding="utf-8")
    with pytest.raises(EditError, match="not a mapping"):
        TopicEditor(scalar).set(("answer", "en"), "source_hash", "0123456789ab")
    with pytest.raises(EditError, match="invalid YAML"):
        stamp_file(broken)
    assert scalar.read_text() == "answer:\n  de: {text: a}\n  en: just text\n"
    assert broken.read_text() == "answer:\n  de: [\n"


def test_a_hash_that_yaml_would_read_as_a_number_is_quoted(tmp_path: Path) -> None:
    path = tmp_path / "t.yml"
    path.write_text("answer:\n  de:\n    text: a\n  en:\n    text: b\n", encoding="utf-8")
    editor = TopicEditor(path)
    editor.set(("answer", "en"), "source_hash", "123456789012")
    assert editor.save() is True
    assert path.read_text().endswith('    source_hash: "123456789012"\n')
