"""`lotse content check`: broken files give the exact problem, with file and line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from content.check import check_content
from content.cli import app
from content.loader import Problem, load_content
from tests.content.content_trees import GERMAN, topic_yaml, write

TODAY = date(2026, 11, 21)


def problems_of(root: Path) -> list[Problem]:
    return check_content(load_content(root), today=TODAY)


def lines(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems]


def test_valid_tree_has_no_problems(tree: Path) -> None:
    assert problems_of(tree) == []


def test_invalid_yaml_reports_the_line(tree: Path) -> None:
    write(tree, "topics/town-a/housing.yml", "topic: housing\nscope: town-a\nanswer:\n  de: [\n")
    found = [p for p in problems_of(tree) if "housing" in p.path]
    assert len(found) == 1
    assert found[0].path == "data/topics/town-a/housing.yml"
    assert found[0].line == 5
    assert found[0].message.startswith("invalid YAML")


def test_unknown_field_reports_file_and_line(tree: Path) -> None:
    text = topic_yaml("housing", "town-a", {"de": GERMAN}).replace(
        "verified: true\n", "verified: true\nvalid_until: 2027-01-01\n")
    write(tree, "topics/town-a/housing.yml", text)
    assert "error: data/topics/town-a/housing.yml:5: valid_until: Extra inputs are not permitted" \
        in lines(problems_of(tree))


def test_wrong_type_reports_the_field(tree: Path) -> None:
    text = topic_yaml("housing", "town-a", {"de": GERMAN}).replace(
        "verified: true", "verified: maybe")
    write(tree, "topics/town-a/housing.yml", text)
    found = [p for p in problems_of(tree) if p.field == "verified"]
    assert [(p.line, p.severity) for p in found] == [(4, "error")]
    assert "boolean" in found[0].message


def test_unknown_topic_and_related(tree: Path) -> None:
    text = topic_yaml("parking", "town-a", {"de": GERMAN}).replace(
        "answer:", "related: [housing, parking_fines]\nanswer:")
    write(tree, "topics/town-a/parking.yml", text)
    found = lines(problems_of(tree))
    assert "error: data/topics/town-a/parking.yml:1: topic: unknown topic 'parking' " \
           "(not a kind:topic intent)" in found
    assert "error: data/topics/town-a/parking.yml:7: related.1: unknown topic " \
           "'parking_fines'" in found


def test_broken_team_references(tree: Path) -> None:
    contact = (
        "contacts:\n"
        "  - name: Bürgerbüro der Stadt A\n"
        "    team: town-a-tem\n"
        "    website: https://www.example.org\n"
    )
    write(tree, "topics/town-a/housing.yml", topic_yaml("housing", "town-a", {"de": GERMAN},
                                                         extra=contact))
    write(tree, "teams.yml", (tree / "teams.yml").read_text() + (
        "- slug: ghost-team\n  municipality: ghost-town\n  name: Team X\n  kind: other\n"
        "  organisation: X\n  organisation_kind: public\n  website: https://www.example.org\n"))
    write(tree, "routing.yml", (tree / "routing.yml").read_text() + (
        "- municipality: town-a\n  priority: 20\n  outcome: intake\n"
        "- municipality: town-b\n  priority: 10\n  outcome: refer\n  team: nobody\n"))
    found = lines(problems_of(tree))
    assert "error: data/topics/town-a/housing.yml:12: contacts.0.team: unknown team " \
           "'town-a-tem'" in found
    assert "error: data/teams.yml:9: 1.municipality: unknown municipality 'ghost-town'" in found
    assert "error: data/routing.yml:7: 1.team: outcome intake needs a team" in found
    assert "error: data/routing.yml:10: 2.municipality: unknown municipality 'town-b'" in found
    assert "error: data/routing.yml:13: 2.team: unknown team 'nobody'" in found


def test_routing_criteria_and_duplicates(tree: Path) -> None:
    write(tree, "routing.yml", (
        "- municipality: town-a\n  priority: 10\n  when:\n    age_band: [under_99]\n"
        "    mood: [happy]\n  outcome: refer\n"
        "- municipality: town-a\n  priority: 10\n  outcome: refer\n"))
    write(tree, "municipalities.yml", (tree / "municipalities.yml").read_text() + (
        "- slug: town-a\n  ags: '05001001'\n  kind: town\n  parent: kreis-z\n"
        "  names: {de: Doppelt}\n"))
    found = lines(problems_of(tree))
    assert "error: data/routing.yml:4: 0.when.age_band: unknown value 'under_99' " \
           "for age_band" in found
    assert "error: data/routing.yml:5: 0.when.mood: unknown criterion 'mood'" in found
    assert "error: data/routing.yml:8: 1.priority: priority 10 used twice for town-a" in found
    assert "error: data/municipalities.yml:21: 4.slug: duplicate slug 'town-a'" in found
    assert "error: data/municipalities.yml:22: 4.ags: duplicate AGS '05001001' (town-a)" in found
    assert "error: data/municipalities.yml:24: 4.parent: unknown parent 'kreis-z'" in found


def test_outdated_translation_is_an_error_and_missing_hash_a_warning(tree: Path) -> None:
    path = tree / "topics/town-a/registration_address.yml"
    path.write_text(path.read_text().replace("Stadt: Melden", "Stadt: Bitte melden"))
    write(tree, "topics/kreis-a/housing.yml",
          topic_yaml("housing", "kreis-a", {"de": GERMAN, "tr": "Kaydolun."}, stamped=False))
    found = problems_of(tree)
    outdated = [p for p in found if p.path.endswith("town-a/registration_address.yml")]
    assert [(p.line, p.field, p.severity) for p in outdated] == \
        [(12, "answer.en.source_hash", "error")]
    assert outdated[0].message.startswith("outdated")
    missing = [p for p in found if p.path.endswith("kreis-a/housing.yml")]
    assert [(p.line, p.field, p.severity) for p in missing] == [(11, "answer.tr", "warning")]


def test_over_long_answer(tree: Path) -> None:
    write(tree, "topics/town-a/housing.yml",
          topic_yaml("housing", "town-a", {"de": " ".join(["Wort"] * 121)}))
    write(tree, "topics/town-a/school.yml",
          topic_yaml("school", "town-a", {"de": " ".join(["Wort"] * 110)}))
    found = lines(problems_of(tree))
    assert found == ["error: data/topics/town-a/housing.yml:9: answer.de.text: "
                     "121 words; at most 120"]


def test_stale_and_unverified_without_link_are_warnings(tree: Path) -> None:
    text = topic_yaml("housing", "town-a", {"de": GERMAN}, verified=False)
    text = text.replace("2026-11-01", "2025-10-01").replace(
        "sources:\n  - url: https://www.example.org\n", "")
    write(tree, "topics/town-a/housing.yml", text)
    found = [p for p in problems_of(tree) if "housing" in p.path]
    assert [(p.field, p.severity) for p in found] == [
        ("verified", "warning"), ("last_verified", "warning")]


def test_consent_needs_german_and_consistent_placeholders(tree: Path) -> None:
    text = (tree / "consent.yml").read_text()
    text = text.replace('"{team} receives your details."', '"{teem} receives your details."')
    text = text.replace('full: "{team} ({organisation}) receives your details."',
                        'full: "{team} receives your details."')
    write(tree, "consent.yml", text + (
        "- kind: confidentiality_release\n  version: 1\n  binding_de: Text\n  texts:\n"
        "    en: {summary: x, full: y}\n"))
    found = lines(problems_of(tree))
    assert "error: data/consent.yml:9: 0.texts.en.summary: unknown placeholder(s) " \
           "['teem']" in found
    assert "error: data/consent.yml:10: 0.texts.en.full: placeholders ['team'] differ from " \
           "German ['organisation', 'team']" in found
    assert "error: data/consent.yml:15: 1.texts: the German text (de) is required" in found


def test_phone_number_in_text_is_a_warning(tree: Path) -> None:
    write(tree, "topics/town-a/housing.yml", topic_yaml(
        "housing", "town-a", {"de": "Rufen Sie 02841 201-0 an. Im Notfall: 112."}))
    found = [p for p in problems_of(tree) if "housing" in p.path]
    assert [(p.severity, p.message) for p in found] == [
        ("warning", "phone number '02841 201-0' in text: put it into contacts")]


def test_cli_exit_codes(tree: Path) -> None:
    runner = CliRunner()
    clean = runner.invoke(app, ["check", "--root", str(tree)])
    assert (clean.exit_code, clean.output.strip()) == (0, "0 error(s), 0 warning(s)")

    write(tree, "topics/kreis-a/housing.yml",
          topic_yaml("housing", "kreis-a", {"de": GERMAN, "tr": "Kaydolun."}, stamped=False))
    warned = runner.invoke(app, ["check", "--root", str(tree)])
    assert warned.exit_code == 0
    assert warned.output.startswith("warning: data/topics/kreis-a/housing.yml:11: answer.tr:")
    assert runner.invoke(app, ["check", "--root", str(tree), "--strict"]).exit_code == 1

    write(tree, "topics/kreis-a/school.yml", "topic: school\n")
    broken = runner.invoke(app, ["check", "--root", str(tree), "-q"])
    assert broken.exit_code == 1
    assert "warning:" not in broken.output
    assert "error: data/topics/kreis-a/school.yml:1: scope: Field required" in broken.output


def test_settings_content_dir_is_the_default_root(tree: Path) -> None:
    from core.settings import Settings

    write(tree, "topics/kreis-a/school.yml", "topic: school\n")
    result = CliRunner().invoke(app, ["check", "-q"], obj=Settings(content_dir=tree))
    assert result.exit_code == 1
    assert "data/topics/kreis-a/school.yml:1: scope: Field required" in result.output
