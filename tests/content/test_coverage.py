"""`lotse content coverage`: the topic x language x municipality matrix."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from content.cli import app
from content.coverage import coverage_rows
from content.loader import load_content
from core.intents import topic_names
from core.language import CURATED

runner = CliRunner()


def test_rows_cover_every_topic_language_and_municipality_below_the_state(tree: Path) -> None:
    rows = coverage_rows(load_content(tree))
    assert len(rows) == 3 * len(topic_names()) * len(CURATED)
    assert {row.municipality for row in rows} == {"kreis-a", "town-a", "city-b"}


def test_json_rows_have_the_documented_shape(tree: Path) -> None:
    result = runner.invoke(app, ["coverage", "--root", str(tree), "--format", "json"])
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert all(set(row) == {"municipality", "topic", "language", "level", "status"}
               for row in rows)
    by_key = {(r["municipality"], r["topic"], r["language"]): r for r in rows}
    assert by_key[("town-a", "registration_address", "uk")] == {
        "municipality": "town-a", "topic": "registration_address", "language": "uk",
        "level": "kreis", "status": "reviewed"}
    assert by_key[("town-a", "housing", "de")]["level"] == "missing"
    assert by_key[("town-a", "housing", "de")]["status"] == "unverified"


def test_a_language_served_only_in_german_is_missing(tree: Path) -> None:
    for scope in ("federal", "land", "kreis-a", "town-a"):
        path = tree / f"topics/{scope}/registration_address.yml"
        text = path.read_text()
        if "  tr:" in text:
            path.write_text(text.split("  tr:")[0])
    rows = coverage_rows(load_content(tree))
    levels = {(r.municipality, r.language): r.level for r in rows
              if r.topic == "registration_address"}
    assert levels[("town-a", "tr")] == "missing"
    assert levels[("town-a", "fa")] == "federal"


def test_fail_on_missing_and_output_file(tree: Path, tmp_path: Path) -> None:
    output = tmp_path / "coverage.html"
    result = runner.invoke(app, ["coverage", "--root", str(tree), "-f", "html", "-o", str(output),
                                 "--fail-on-missing"])
    assert result.exit_code == 1
    page = output.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert "class='missing unverified'" in page
    assert "<link" not in page and "<script" not in page and "src=" not in page  # self-contained


def test_text_table_has_totals(tree: Path) -> None:
    result = runner.invoke(app, ["coverage", "--root", str(tree)])
    assert result.exit_code == 0
    assert f"{3 * len(topic_names()) * len(CURATED)} rows: local " in result.output
    assert "  registration_address" in result.output
