"""`lotse content import-integreat` on fixture files in the shape of the Integreat API v3."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from content.check import check_content
from content.cli import app
from content.integreat import html_to_text, opening_hours, shorten
from content.loader import load_content

FIXTURES = Path(__file__).with_name("fixtures")
runner = CliRunner()


def run_import(root: Path, language: str = "de") -> str:
    result = runner.invoke(app, [
        "import-integreat", "--root", str(root), "--region", "testort", "--scope", "city-b",
        "--language", language,
        "--pages", str(FIXTURES / f"integreat_pages_{language}.json"),
        "--locations", str(FIXTURES / "integreat_locations_de.json"),
    ])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def imported(tree: Path) -> Path:
    run_import(tree)
    return tree


def test_html_becomes_plain_text() -> None:
    markup = ("<h2>Anmeldung</h2><p>Sie m&uuml;ssen <b>bald</b> anmelden.</p>"
              "<ul><li>Pass</li><li>Formular</li></ul><script>x()</script><p>Ende.</p>")
    assert html_to_text(markup) == \
        "Anmeldung\nSie müssen bald anmelden.\n- Pass\n- Formular\nEnde."


def test_shorten_keeps_whole_sentences() -> None:
    text = "Eins zwei drei. Vier fünf sechs. Sieben acht neun."
    assert shorten(text, max_words=7) == "Eins zwei drei. Vier fünf sechs."
    assert shorten(text, max_words=9) == text


def test_opening_hours_only_as_given() -> None:
    slot = {"start": "08:00", "end": "12:00"}
    days = [{"closed": False, "appointmentOnly": False, "timeSlots": [slot]},
            {"closed": True, "timeSlots": []},
            {"allDay": True, "closed": False, "appointmentOnly": False, "timeSlots": []}]
    assert opening_hours(days) == (["Mo 08:00-12:00", "We 00:00-24:00"], False)
    assert opening_hours(None) == ([], False)


def test_pages_and_locations_become_unverified_topic_files(imported: Path) -> None:
    data = yaml.safe_load((imported / "topics/city-b/registration_address.yml").read_text())
    assert data["verified"] is False
    assert data["last_verified"] == date(2026, 5, 2)
    assert [s["url"] for s in data["sources"]] == [
        "https://integreat.example/testort/de/willkommen/anmeldung/",
        "https://integreat.example/testort/de/willkommen/meldebescheinigung/",
    ]
    assert data["answer"] == {"de": {"text": (
        "Anmeldung\nSie müssen Ihre Wohnung innerhalb von zwei Wochen anmelden.\n"
        "- Reisepass\n- Wohnungsgeberbestätigung\nMehr auf der Seite der Stadt.\n")}}
    assert data["contacts"] == [{
        "name": "Bürgerbüro Testort",
        "kind": "office",
        "address": "Rathausplatz 1, 12345 Testort",
        "opening_hours": ["Mo 08:00-12:00", "Tu 08:00-12:00,14:00-17:30", "Th 08:00-12:00",
                          "Fr 08:00-12:00"],
        "appointment_only": True,
        "phone": "+49 1234 56-0",
        "email": "buergerbuero@example.org",
        "website": "https://www.example.org/buergerbuero",
        "booking_url": "https://www.example.org/termine",
        "verified": False,
    }]


def test_nothing_is_invented_and_no_person_is_imported(imported: Path) -> None:
    housing = yaml.safe_load((imported / "topics/city-b/housing.yml").read_text())
    contact = housing["contacts"][0]
    assert contact["name"] == "Wohnungsbörse"
    assert (contact["address"], contact["phone"], contact["email"], contact["opening_hours"]) \
        == (None, None, None, [])
    assert contact["website"] == "https://integreat.example/testort/de/locations/wohnungsboerse/"
    text = "".join(p.read_text() for p in (imported / "topics/city-b").glob("*.yml"))
    assert "Mustermann" not in text and "Beispiel" not in text and "56-78" not in text
    assert "Tierpark" not in text and "Impressum" not in text
    assert len(housing["answer"]["de"]["text"].split()) <= 120
    assert housing["answer"]["de"]["text"].rstrip().endswith("sofort schriftlich.")


def test_imported_files_pass_check(imported: Path) -> None:
    problems = check_content(load_content(imported), today=date(2026, 11, 21))
    assert [p for p in problems if p.severity == "error"] == []
    assert {p.path for p in problems} == set()  # German only: no translation warnings


def test_another_language_joins_the_existing_file(imported: Path) -> None:
    path = imported / "topics/city-b/registration_address.yml"
    before = path.read_text()
    output = run_import(imported, "en")
    assert "wrote" in output
    after = path.read_text()
    assert after.startswith(before.rstrip("\n").split("contacts:")[0])
    topic = load_content(imported).topics[("city-b", "registration_address")]
    assert topic.answer["en"].text == "You must register your flat within two weeks.\n"
    assert topic.answer["en"].source_hash is None  # a reviewer stamps it
    assert topic.answer["de"].text.startswith("Anmeldung\n")


def test_a_second_import_does_not_overwrite(imported: Path) -> None:
    path = imported / "topics/city-b/housing.yml"
    path.write_text(path.read_text().replace("verified: false\nsources", "verified: true\nsources"))
    before = path.read_bytes()
    output = run_import(imported)
    assert "has de already, not overwritten" in output
    assert path.read_bytes() == before
