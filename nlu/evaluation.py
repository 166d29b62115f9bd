"""Evaluation report with the keys of Rasa's intent_report.json, plus our safety figures."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nlu.corpus import Example
from nlu.result import EMERGENCY, OUT_OF_SCOPE, ParseResult

Report = dict[str, object]
Parse = Callable[[str, str | None], ParseResult]


@dataclass(frozen=True)
class Prediction:
    example: Example
    intent: str
    confidence: float
    fallback: str | None
    language: str


def predict_all(parse: Parse, examples: Sequence[Example]) -> list[Prediction]:
    """Classify each example with its file's language given, as the dialogue would."""
    predictions = []
    for example in examples:
        result = parse(example.text, example.language or None)
        predictions.append(
            Prediction(
                example,
                result.intent.name,
                result.intent.confidence,
                result.fallback,
                result.language,
            )
        )
    return predictions


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def intent_report(pairs: Sequence[tuple[str, str]]) -> Report:
    """Per-intent figures, accuracy and averages from (gold, predicted) pairs, as Rasa does."""
    labels = sorted({g for g, _ in pairs} | {p for _, p in pairs})
    confusions: dict[str, Counter[str]] = defaultdict(Counter)
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for gold, predicted in pairs:
        if gold == predicted:
            tp[gold] += 1
        else:
            fp[predicted] += 1
            fn[gold] += 1
            confusions[gold][predicted] += 1
    report: Report = {}
    support = Counter(g for g, _ in pairs)
    for label in labels:
        precision, recall, f1 = _prf(tp[label], fp[label], fn[label])
        report[label] = {
            "precision": precision,
            "recall": recall,
            "f1-score": f1,
            "support": support[label],
            "confused_with": dict(confusions[label].most_common(3)),
        }
    gold_labels = [label for label in labels if support[label]]
    total = len(pairs) or 1
    report["accuracy"] = sum(tp.values()) / total
    for name, weight in (("macro avg", lambda _: 1.0), ("weighted avg", lambda lb: support[lb])):
        weights = {label: float(weight(label)) for label in gold_labels}
        norm = sum(weights.values()) or 1.0
        report[name] = {
            key: sum(report[lb][key] * weights[lb] for lb in gold_labels) / norm  # type: ignore[index]
            for key in ("precision", "recall", "f1-score")
        } | {"support": len(pairs)}
    return report


def build_report(predictions: Sequence[Prediction]) -> Report:
    """intent_report keys plus per-language figures, fallback and emergency figures."""
    pairs = [(p.example.intent, p.intent) for p in predictions]
    report = intent_report(pairs)
    by_language: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for p in predictions:
        by_language[p.example.language or "?"].append((p.example.intent, p.intent))
    languages: dict[str, object] = {}
    for lang, lang_pairs in sorted(by_language.items()):
        sub = intent_report(lang_pairs)
        languages[lang] = {
            "accuracy": sub["accuracy"],
            "macro_f1": sub["macro avg"]["f1-score"],  # type: ignore[index]
            "support": len(lang_pairs),
        }
    oos = [p for p in predictions if p.example.intent == OUT_OF_SCOPE]
    inscope = [p for p in predictions if p.example.intent != OUT_OF_SCOPE]
    emergencies = [p for p in predictions if p.example.intent == EMERGENCY]
    false_alarms = [
        p for p in inscope + oos if p.example.intent != EMERGENCY and p.intent == EMERGENCY
    ]
    confusions = Counter((g, p) for g, p in pairs if g != p)
    report["languages"] = languages
    report["summary"] = {
        "examples": len(predictions),
        "accuracy": report["accuracy"],
        "macro_f1": report["macro avg"]["f1-score"],  # type: ignore[index]
        "out_of_scope_recall": _share(oos, lambda p: p.intent == OUT_OF_SCOPE),
        "in_scope_fallback_rate": _share(inscope, lambda p: p.fallback is not None),
        "in_scope_predicted_out_of_scope": _share(inscope, lambda p: p.intent == OUT_OF_SCOPE),
        "emergency_recall": _share(emergencies, lambda p: p.intent == EMERGENCY),
        "emergency_false_alarm_rate": len(false_alarms)
        / max(1, len(predictions) - len(emergencies)),
    }
    report["worst_confusions"] = [
        {"intent": g, "predicted": p, "count": n} for (g, p), n in confusions.most_common(15)
    ]
    return report


def _share(items: Sequence[Prediction], hit: Callable[[Prediction], bool]) -> float:
    return sum(1 for item in items if hit(item)) / len(items) if items else 0.0


def render_text(report: Report) -> str:
    """A readable version of the report for the terminal and the text file."""
    summary: dict[str, float] = report["summary"]  # type: ignore[assignment]
    lines = ["NLU evaluation", "=============="]
    lines += [
        f"{key:34} {value:.3f}" if isinstance(value, float) else f"{key:34} {value}"
        for key, value in summary.items()
    ]
    lines += ["", f"{'language':10} {'accuracy':>9} {'macro-F1':>9} {'n':>6}"]
    for lang, figures in report["languages"].items():  # type: ignore[attr-defined]
        lines.append(
            f"{lang:10} {figures['accuracy']:9.3f} {figures['macro_f1']:9.3f} "
            f"{figures['support']:6d}"
        )
    lines += ["", f"{'intent':28} {'prec':>6} {'rec':>6} {'f1':>6} {'n':>5}  confused with"]
    for name, figures in report.items():
        if isinstance(figures, dict) and "f1-score" in figures and "confused_with" in figures:
            confused = ", ".join(f"{k} {v}" for k, v in figures["confused_with"].items())
            lines.append(
                f"{name:28} {figures['precision']:6.2f} {figures['recall']:6.2f} "
                f"{figures['f1-score']:6.2f} {figures['support']:5d}  {confused}"
            )
    worst: list[dict[str, object]] = report["worst_confusions"]  # type: ignore[assignment]
    lines += ["", "worst confusions:"]
    lines += [f"  {c['intent']} -> {c['predicted']}: {c['count']}" for c in worst]
    return "\n".join(lines) + "\n"


def write_report(report: Report, predictions: Sequence[Prediction], out_dir: Path) -> list[Path]:
    """intent_report.json, intent_report.txt and intent_errors.json, as `rasa test nlu` does."""
    out_dir.mkdir(parents=True, exist_ok=True)
    errors = [
        {
            "text": p.example.text,
            "intent": p.example.intent,
            "language": p.example.language,
            "intent_prediction": {"name": p.intent, "confidence": p.confidence},
        }
        for p in predictions
        if p.intent != p.example.intent
    ]
    paths = [
        out_dir / "intent_report.json",
        out_dir / "intent_report.txt",
        out_dir / "intent_errors.json",
    ]
    paths[0].write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    paths[1].write_text(render_text(report), encoding="utf-8")
    paths[2].write_text(json.dumps(errors, indent=2, ensure_ascii=False), encoding="utf-8")
    return paths
