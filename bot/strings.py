"""UI strings (prompts, buttons) per language, kept apart from curated content."""

from __future__ import annotations

from pathlib import Path

import yaml

from core.language import CURATED

STRINGS_DIR = Path(__file__).with_name("strings")
FALLBACK = "en"


class Strings:
    def __init__(self, directory: Path = STRINGS_DIR) -> None:
        self._table: dict[str, dict[str, str]] = {}
        for language in CURATED:
            path = directory / f"{language}.yml"
            if path.exists():
                self._table[language] = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}

    def get(self, language: str, key: str, /, **values: object) -> str:
        template = self._table.get(language, {}).get(key)
        if template is None:
            template = self._table[FALLBACK][key]
        return template.format(**values) if values else template

    def has(self, language: str, key: str) -> bool:
        return key in self._table.get(language, {})

    def keys(self, language: str) -> set[str]:
        return set(self._table.get(language, {}))
