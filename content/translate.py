"""Machine translation of missing answers, with the facts that must not change protected.

URLs, e-mail addresses, phone numbers and office names are swapped for numbered markers
before translation and put back afterwards; a translation that lost a marker is refused.
argostranslate is an optional extra and is imported only when a translator is built.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from content.editor import TopicEditor
from content.schema import source_hash
from core.language import SOURCE_LANGUAGE

PIVOT = "en"
KEEP_AS_IS = ("Lotse",)  # the product name is German for "pilot": never translated
_MARKER = re.compile(r"⟦\s*(\d+)\s*⟧")
_PROTECTED = re.compile(
    r"https?://[^\s<>()\"']+[^\s<>()\"'.,;:!?]"  # URLs
    r"|www\.[^\s<>()\"']+[^\s<>()\"'.,;:!?]"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail addresses
    r"|(?<![\w+])(?:\+\d{2} ?(?:\(0\) ?)?|0)\d[\d /()-]{4,}\d"  # phone numbers
    r"|(?<![\w\d])(?:116 ?117|116 ?016|112|110)(?![\w\d])"  # nationwide short numbers
)


class Translator(Protocol):
    def translate(self, text: str, source: str, target: str) -> str: ...


class TranslatorUnavailable(Exception):
    """argostranslate or the language model is not installed."""


class ProtectionLost(Exception):
    """The translation dropped or duplicated a protected fact."""


def protect(text: str, names: Iterable[str] = ()) -> tuple[str, list[str]]:
    """The text with protected spans replaced by ⟦n⟧, and the spans in order of n."""
    kept: list[str] = []

    def keep(span: str) -> str:
        kept.append(span)
        return f"⟦{len(kept) - 1}⟧"

    protected = _PROTECTED.sub(lambda m: keep(m.group()), text)
    for name in sorted({*names, *KEEP_AS_IS}, key=len, reverse=True):
        if name.strip():
            protected = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)",
                               lambda m: keep(m.group()), protected)
    return protected, kept


def restore(text: str, kept: list[str]) -> str:
    found = [int(n) for n in _MARKER.findall(text)]
    if sorted(found) != list(range(len(kept))):
        raise ProtectionLost(f"expected markers 0..{len(kept) - 1}, got {found}")
    return _MARKER.sub(lambda m: kept[int(m.group(1))], text)


def translate_protected(
    translator: Translator, text: str, source: str, target: str, names: Iterable[str] = ()
) -> str:
    """Translates line by line (keeping the editor's line breaks), facts protected."""
    names = list(names)
    lines = []
    for line in text.strip().split("\n"):
        if not line.strip():
            lines.append("")
            continue
        protected, kept = protect(line, names)
        lines.append(restore(translator.translate(protected, source, target), kept).rstrip())
    return "\n".join(lines) + "\n"


class ArgosTranslator:
    """Offline translation with argostranslate: de -> LANG directly or through English.

    Installed models are listed from the package index (fast); the translation engine,
    which takes seconds to import, is loaded only on the first real translation.
    """

    def __init__(self) -> None:
        try:
            import argostranslate.package as packages  # optional extra
        except ImportError as exc:
            raise TranslatorUnavailable(
                "argostranslate is not installed: pip install 'lotse[translate]'"
            ) from exc
        self._pairs = {(p.from_code, p.to_code) for p in packages.get_installed_packages()}
        self._cache: dict[tuple[str, str], Callable[[str], str]] = {}

    def require(self, source: str, target: str) -> None:
        if (source, target) in self._pairs or {(source, PIVOT), (PIVOT, target)} <= self._pairs:
            return
        raise TranslatorUnavailable(
            f"no argostranslate model for {source}->{target} (nor {source}->{PIVOT}->{target}); "
            f"install one with: argospm install translate-{source}_{target}"
        )

    def _engine(self, source: str, target: str) -> Callable[[str], str]:
        import argostranslate.translate as argos

        languages = {lang.code: lang for lang in argos.get_installed_languages()}

        def step(a: str, b: str) -> Callable[[str], str]:
            translation = languages[a].get_translation(languages[b])
            if translation is None:
                raise TranslatorUnavailable(f"no argostranslate model for {a}->{b}")
            return translation.translate  # type: ignore[no-any-return]

        if (source, target) in self._pairs:
            return step(source, target)
        first, second = step(source, PIVOT), step(PIVOT, target)
        return lambda text: second(first(text))

    def translate(self, text: str, source: str, target: str) -> str:
        self.require(source, target)
        if (source, target) not in self._cache:
            self._cache[(source, target)] = self._engine(source, target)
        return self._cache[(source, target)](text)


@dataclass
class FileTranslation:
    path: Path
    answer: bool = False
    checklist_items: int = 0
    refused: list[str] = field(default_factory=list)


def translate_file(
    path: Path, translator: Translator | None, target: str, source: str = SOURCE_LANGUAGE,
) -> FileTranslation:
    """Adds the missing `target` answer and checklist items; `translator=None` only reports."""
    editor = TopicEditor(path)
    data = editor.data
    report = FileTranslation(path)
    answer = data.get("answer") or {}
    german = str((answer.get(SOURCE_LANGUAGE) or {}).get("text", ""))
    names = [str(c.get("name")) for c in data.get("contacts") or [] if isinstance(c, dict)]
    if target not in answer and isinstance(answer.get(source), dict):
        report.answer = True
        if translator is not None:
            try:
                text = translate_protected(translator, answer[source]["text"], source, target,
                                           names)
                editor.set(("answer",), target, {
                    "text": text, "machine_translated": True, "source_hash": source_hash(german)
                })
            except ProtectionLost as exc:
                report.answer = False
                report.refused.append(f"answer: {exc}")
    for index, item in enumerate(data.get("checklist") or []):
        if not isinstance(item, dict) or target in item or source not in item:
            continue
        report.checklist_items += 1
        if translator is not None:
            try:
                text = translate_protected(translator, item[source], source, target, names)
                editor.set(("checklist", index), target, text.strip())
            except ProtectionLost as exc:
                report.checklist_items -= 1
                report.refused.append(f"checklist {index}: {exc}")
    if translator is not None:
        editor.save()
    return report
