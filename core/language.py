"""The curated languages as BCP-47 tags, with their native names and text direction."""

from __future__ import annotations

CURATED: tuple[str, ...] = ("de", "en", "ar", "uk", "ru", "fa", "tr")
SOURCE_LANGUAGE = "de"
RIGHT_TO_LEFT = frozenset({"ar", "fa", "ps", "ur", "ckb", "he"})
NATIVE_NAMES: dict[str, str] = {
    "de": "Deutsch",
    "en": "English",
    "ar": "العربية",
    "uk": "Українська",
    "ru": "Русский",
    "fa": "فارسی",
    "tr": "Türkçe",
}


def direction(language: str) -> str:
    return "rtl" if language.split("-")[0] in RIGHT_TO_LEFT else "ltr"


def normalise_tag(tag: str | None) -> str | None:
    """'AR-sy' -> 'ar' when curated; None for anything we do not serve."""
    if not tag:
        return None
    base = tag.strip().replace("_", "-").split("-")[0].lower()
    return base if base in CURATED else None
