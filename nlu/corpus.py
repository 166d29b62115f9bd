"""Labelled examples: reading Rasa nlu.yml and JSON Lines files, and hashing the data."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"
EVAL_DIR = Path(__file__).resolve().parent / "eval"
LANGUAGES: tuple[str, ...] = ("de", "en", "ar", "uk", "ru", "fa", "tr")

_ENTITY_MARKUP = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


class CorpusError(ValueError):
    """A data file cannot be read as training data."""


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    language: str
    source: str = ""
    line: int = 0


def strip_entity_markup(text: str) -> str:
    """Turn Rasa's "[Köln](municipality)" annotations back into plain text."""
    return _ENTITY_MARKUP.sub(r"\1", text)


def data_files(paths: Iterable[Path]) -> list[Path]:
    """Expand directories into their *.yml, *.yaml and *.jsonl files, sorted."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(p for p in path.iterdir() if p.suffix in {".yml", ".yaml", ".jsonl"})
            )
        elif path.exists():
            files.append(path)
        else:
            raise CorpusError(f"{path}: no such file or directory")
    return files


def load_examples(paths: Iterable[Path]) -> list[Example]:
    """All examples of the given files and directories, in file order."""
    examples: list[Example] = []
    for path in data_files(paths):
        if path.suffix == ".jsonl":
            examples.extend(_read_jsonl(path))
        else:
            examples.extend(read_rasa_yaml(path))
    return examples


def language_of_file(path: Path) -> str:
    """The language a data file holds: its stem, e.g. nlu/data/uk.yml -> "uk"."""
    return path.stem.split(".")[0].split("_")[0]


def read_rasa_yaml(path: Path, language: str | None = None) -> list[Example]:
    """Examples of one Rasa 3.x nlu.yml file (intent blocks; other blocks ignored)."""
    lang = language or language_of_file(path)
    raw = path.read_text(encoding="utf-8")
    try:
        document = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise CorpusError(f"{path}: not valid YAML ({exc.__class__.__name__})") from exc
    if document is None:
        return []
    if not isinstance(document, dict) or not isinstance(document.get("nlu", []), list):
        raise CorpusError(f"{path}: expected a mapping with an 'nlu' list")
    lines = raw.splitlines()
    examples: list[Example] = []
    cursor = 0
    for block in document.get("nlu") or []:
        if not isinstance(block, dict) or "intent" not in block:
            continue
        intent = str(block["intent"])
        body = block.get("examples", "")
        if not isinstance(body, str):
            raise CorpusError(f"{path}: intent {intent}: 'examples' must be a block string")
        for item in body.splitlines():
            stripped = item.strip()
            if not stripped:
                continue
            if not stripped.startswith("- "):
                raise CorpusError(f"{path}: intent {intent}: example line without '- ': {item!r}")
            text = strip_entity_markup(stripped[2:].strip())
            line_no, cursor = _find_line(lines, stripped, cursor)
            examples.append(Example(text, intent, lang, str(path), line_no))
    return examples


def _find_line(lines: Sequence[str], stripped: str, start: int) -> tuple[int, int]:
    for index in range(start, len(lines)):
        if lines[index].strip() == stripped:
            return index + 1, index + 1
    return 0, start


def _read_jsonl(path: Path) -> list[Example]:
    examples: list[Example] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{path}:{number}: not valid JSON") from exc
        if not isinstance(record, dict) or "text" not in record or "intent" not in record:
            raise CorpusError(f"{path}:{number}: needs 'text' and 'intent'")
        lang = str(record.get("lang") or record.get("language") or "")
        examples.append(
            Example(str(record["text"]), str(record["intent"]), lang, str(path), number)
        )
    return examples


def data_hash(paths: Iterable[Path], salt: str = "") -> str:
    """A fingerprint of the training files (names and bytes) plus a code version salt."""
    digest = hashlib.sha256(salt.encode())
    for path in data_files(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
