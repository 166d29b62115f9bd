"""`lotse nlu check`: the real data passes; broken files give exact errors and exit 1."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from core.settings import Settings
from nlu.cli import app
from nlu.corpus import DATA_DIR, EVAL_DIR, LANGUAGES
from nlu.taxonomy import intent_names
from nlu.validation import Level, check_data


def _copy_data(target: Path) -> None:
    for lang in LANGUAGES:
        (target / f"{lang}.yml").write_text(
            (DATA_DIR / f"{lang}.yml").read_text(encoding="utf-8"), encoding="utf-8"
        )


def test_shipped_data_has_no_errors() -> None:
    errors = [str(i) for i in check_data(DATA_DIR) if i.level is Level.ERROR]
    assert errors == []


def test_cli_check_passes_on_the_shipped_data() -> None:
    result = CliRunner().invoke(app, ["check", "--held-out", str(EVAL_DIR)], obj=Settings())
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith("0 errors")


def test_missing_intent_is_an_error(tmp_path: Path) -> None:
    _copy_data(tmp_path)
    text = (tmp_path / "tr.yml").read_text(encoding="utf-8")
    start = text.index("- intent: thanks\n")
    end = text.index("- intent:", start + 5)
    (tmp_path / "tr.yml").write_text(text[:start] + text[end:], encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "--data", str(tmp_path)], obj=Settings())
    assert result.exit_code == 1
    assert f"error: {tmp_path.name}/tr.yml: missing intents: thanks" in result.stdout.splitlines()


def test_example_under_two_intents_and_unknown_intent(tmp_path: Path) -> None:
    _copy_data(tmp_path)
    with (tmp_path / "de.yml").open("a", encoding="utf-8") as handle:
        handle.write("- intent: weather\n  examples: |\n    - Wie wird das Wetter?\n")
        handle.write("- intent: goodbye\n  examples: |\n    - Hallo Zusammen!\n")
    issues = [str(i) for i in check_data(tmp_path) if i.level is Level.ERROR]
    assert f"error: {tmp_path.name}/de.yml: unknown intents: weather" in issues
    conflict = [i for i in issues if "'hallo zusammen' under 2 intents" in i]
    assert len(conflict) == 1 and "(greet)" in conflict[0] and "(goodbye)" in conflict[0]


def test_broken_yaml_and_too_few_examples(tmp_path: Path) -> None:
    _copy_data(tmp_path)
    (tmp_path / "en.yml").write_text(
        "nlu:\n- intent: greet\n  examples: |\n    hello without dash\n", encoding="utf-8"
    )
    (tmp_path / "fa.yml").unlink()
    issues = [str(i) for i in check_data(tmp_path)]
    folder = tmp_path.name
    assert (
        f"error: {folder}/en.yml: intent greet: example line without '- ': 'hello without dash'"
        in issues
    )
    assert f"error: {folder}/fa.yml: file missing" in issues


def test_intent_list_is_the_contract() -> None:
    names = intent_names()
    assert len(names) == 40 and len(set(names)) == 40
    assert {"emergency", "out_of_scope", "book_appointment"} <= set(names)
