"""Optional machine-translation pivot: messages in languages without training data -> English.

argostranslate (and torch behind it) is an optional extra: it is imported lazily, on the
first translation, never at module import. Which pairs exist is read from the installed
packages' metadata.json files, so asking "can you translate ps?" costs no import.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import threading
from pathlib import Path
from typing import Protocol

logger = logging.getLogger(__name__)

PIVOT_LANGUAGE = "en"


class Translator(Protocol):
    def supports(self, source: str, target: str) -> bool: ...

    def translate(self, text: str, source: str, target: str) -> str: ...


def argos_packages_dir() -> Path:
    """Where argostranslate installs packages (same rules as argostranslate.settings)."""
    explicit = os.environ.get("ARGOS_PACKAGES_DIR")
    if explicit:
        return Path(explicit)
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "argos-translate" / "packages"


def installed_pairs(packages_dir: Path) -> set[tuple[str, str]]:
    """(from_code, to_code) of every installed translate package."""
    pairs: set[tuple[str, str]] = set()
    if not packages_dir.is_dir():
        return pairs
    for metadata in packages_dir.glob("*/metadata.json"):
        try:
            info = json.loads(metadata.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if info.get("type", "translate") == "translate":
            pairs.add((str(info.get("from_code")), str(info.get("to_code"))))
    return pairs


class ArgosTranslator:
    """argostranslate behind the Translator protocol; thread-safe (one lock around it)."""

    def __init__(self, pairs: set[tuple[str, str]]) -> None:
        self._pairs = pairs
        self._lock = threading.Lock()

    def supports(self, source: str, target: str) -> bool:
        return (source, target) in self._pairs

    def translate(self, text: str, source: str, target: str) -> str:
        # Sentence splitting must not download anything: spaCy's rule-based splitter is the
        # only offline mode, and argostranslate reads this setting when it is imported.
        os.environ.setdefault("ARGOS_CHUNK_TYPE", "SPACY")
        with self._lock:
            import argostranslate.translate

            return str(argostranslate.translate.translate(text, source, target))


def build_translator(packages_dir: Path | None = None) -> Translator | None:
    """An ArgosTranslator when argostranslate and at least one package are installed."""
    if importlib.util.find_spec("argostranslate") is None:
        return None
    pairs = installed_pairs(packages_dir or argos_packages_dir())
    if not pairs:
        return None
    logger.info("nlu translation pivot available for %d language pairs", len(pairs))
    return ArgosTranslator(pairs)
