"""The `lotse nlu` commands, called as the root CLI does: Settings in ctx.obj."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from core.settings import Settings
from nlu.cli import app
from nlu.corpus import DATA_DIR, EVAL_DIR, LANGUAGES, read_rasa_yaml
from nlu.model import IntentModel, load_model
from nlu.taxonomy import intent_names

RASA_REPORT_KEYS = {"accuracy", "macro avg", "weighted avg"}


def test_predict_writes_one_json_line_per_input_line_in_order(
    nlu_settings: Settings, trained_model: IntentModel
) -> None:
    lines = [
        {"text": "Ich brauche einen Termin für eine Erstberatung", "lang": "de"},
        "this is not json",
        {"text": "أريد فتح حساب بنكي", "lang": "ar"},
        {"lang": "de"},
        {"text": "Хочу записатися на інтеграційний курс"},
    ]
    stdin = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    result = CliRunner().invoke(app, ["predict"], input=stdin, obj=nlu_settings)
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 5
    assert [o.get("text") for o in out] == [
        "Ich brauche einen Termin für eine Erstberatung",
        None,
        "أريد فتح حساب بنكي",
        None,
        "Хочу записатися на інтеграційний курс",
    ]
    assert out[0]["intent"] == "book_appointment" and out[0]["language"] == "de"
    assert set(out[0]) == {"text", "intent", "confidence", "language", "intent_ranking"}
    assert set(out[1]) == {"error"} and set(out[3]) == {"error"}
    assert out[2]["intent"] == "bank_account" and out[2]["language"] == "ar"
    assert out[4]["intent"] == "integration_course" and out[4]["language"] == "uk"
    ranking = out[0]["intent_ranking"]
    assert ranking[0]["name"] == "book_appointment"
    assert [r["confidence"] for r in ranking] == sorted(
        (r["confidence"] for r in ranking), reverse=True
    )


def test_train_writes_the_artefact(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    keep = {"greet", "thanks", "emergency", "bank_account", "out_of_scope"}
    for lang in ("de", "en"):
        examples = [e for e in read_rasa_yaml(DATA_DIR / f"{lang}.yml") if e.intent in keep]
        body = ['version: "3.1"', "nlu:"]
        for intent in sorted(keep):
            body += [f"- intent: {intent}", "  examples: |"]
            body += [f"    - {e.text}" for e in examples if e.intent == intent]
        (data / f"{lang}.yml").write_text("\n".join(body) + "\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "var")
    result = CliRunner().invoke(app, ["train", "--data", str(data)], obj=settings)
    assert result.exit_code == 0, result.output
    assert "training time" in result.stdout
    model = load_model(settings.resolved_nlu_model_path)
    assert sorted(model.intents) == sorted(keep)


def test_evaluate_writes_a_rasa_shaped_report(
    nlu_settings: Settings, trained_model: IntentModel, tmp_path: Path
) -> None:
    files = [str(EVAL_DIR / "de.yml"), str(EVAL_DIR / "tr.yml")]
    args = ["evaluate", "--data", files[0], "--data", files[1], "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args, obj=nlu_settings)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "intent_report.json").read_text(encoding="utf-8"))
    assert RASA_REPORT_KEYS <= set(report)
    for intent in intent_names():
        assert {"precision", "recall", "f1-score", "support", "confused_with"} <= set(
            report[intent]
        )
    assert set(report["languages"]) == {"de", "tr"}
    summary = report["summary"]
    for key in ("out_of_scope_recall", "in_scope_fallback_rate", "emergency_recall", "macro_f1"):
        assert 0.0 <= summary[key] <= 1.0
    assert report["worst_confusions"]
    assert "macro_f1" in (tmp_path / "intent_report.txt").read_text(encoding="utf-8")


def test_evaluate_accepts_a_directory(
    nlu_settings: Settings, trained_model: IntentModel, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app, ["evaluate", "--data", str(EVAL_DIR), "--out", str(tmp_path)], obj=nlu_settings
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "intent_report.json").read_text(encoding="utf-8"))
    assert set(report["languages"]) == set(LANGUAGES)


def test_export_rasa_writes_a_loadable_project(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["export-rasa", str(tmp_path)], obj=Settings(data_dir=tmp_path)
    )
    assert result.exit_code == 0, result.output
    config = yaml.safe_load((tmp_path / "config.yml").read_text(encoding="utf-8"))
    domain = yaml.safe_load((tmp_path / "domain.yml").read_text(encoding="utf-8"))
    nlu = yaml.safe_load((tmp_path / "data" / "nlu.yml").read_text(encoding="utf-8"))
    assert config["language"] == "xx" and config["pipeline"]
    assert domain["intents"] == intent_names()
    assert [block["intent"] for block in nlu["nlu"]] == intent_names()
    exported = read_rasa_yaml(tmp_path / "data" / "nlu.yml", "xx")
    ours = {e.text for lang in LANGUAGES for e in read_rasa_yaml(DATA_DIR / f"{lang}.yml")}
    assert {" ".join(t.split()) for t in ours} == {e.text for e in exported}


def test_evaluate_reads_json_lines(
    nlu_settings: Settings, trained_model: IntentModel, tmp_path: Path
) -> None:
    data = tmp_path / "cases.jsonl"
    rows = [
        {"text": "Ich möchte ein Konto eröffnen", "intent": "bank_account", "lang": "de"},
        {"text": "мой муж меня бьет", "intent": "emergency"},
        {"text": "wer hat das spiel gestern gewonnen", "intent": "out_of_scope", "lang": "de"},
    ]
    data.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8"
    )
    result = CliRunner().invoke(
        app, ["evaluate", "--data", str(data), "--out", str(tmp_path / "out")], obj=nlu_settings
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "intent_report.json").read_text(encoding="utf-8"))
    assert report["summary"]["examples"] == 3
    assert report["summary"]["emergency_recall"] == 1.0
    assert report["bank_account"]["support"] == 1
