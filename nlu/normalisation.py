"""Text normalisation shared by training and inference, so both see the same characters."""

from __future__ import annotations

import re
import unicodedata

# Arabic-Indic and Persian digits become ASCII so "١١٢" and "۱۱۲" read as 112.
_DIGITS = {ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")}
_DIGITS.update({ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")})

# Letter variants unified for classification only (language id looks at the raw text).
_LETTERS: dict[int, str | None] = {
    **_DIGITS,
    ord("أ"): "ا",
    ord("إ"): "ا",
    ord("آ"): "ا",
    ord("ٱ"): "ا",
    ord("ى"): "ي",
    ord("ی"): "ي",
    ord("ئ"): "ي",
    ord("ک"): "ك",
    ord("ؤ"): "و",
    ord("ة"): "ه",
    ord("ۀ"): "ه",
    ord("ە"): "ه",
    ord("ـ"): None,  # tatweel
    ord("ё"): "е",
    ord("ı"): "i",
    ord("ß"): "ss",
    ord("’"): "'",
    ord("‘"): "'",
    ord("ʼ"): "'",
    ord("`"): "'",
    ord("\u200c"): " ",  # zero-width non-joiner (Persian half-space)
    ord("\u200d"): None,
    ord("\u200f"): None,
    ord("\u200e"): None,
}

# Combining marks removed after NFD: Latin accents, Arabic harakat, shadda, sukun...
# Cyrillic breve/diaeresis are kept by recomposing й and ї first.
_KEEP_COMPOSED = {"й": "\uf001", "ї": "\uf002"}
_RESTORE = {v: k for k, v in _KEEP_COMPOSED.items()}
_NON_WORD = re.compile(r"[^\w']+|_+")
_APOSTROPHE_EDGE = re.compile(r"(?<!\w)'|'(?!\w)")
_REPEATS = re.compile(r"(\D)\1{2,}")


def normalise_text(text: str) -> str:
    """Lower-case, strip accents and harakat, unify letter variants, drop punctuation."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    for char, placeholder in _KEEP_COMPOSED.items():
        folded = folded.replace(char, placeholder)
    decomposed = unicodedata.normalize("NFD", folded)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    for placeholder, char in _RESTORE.items():
        stripped = stripped.replace(placeholder, char)
    unified = stripped.translate(_LETTERS)
    unified = _REPEATS.sub(r"\1\1", unified)
    spaced = _NON_WORD.sub(" ", unified)
    spaced = _APOSTROPHE_EDGE.sub(" ", spaced)
    return " ".join(spaced.split())


def fold_for_matching(text: str) -> str:
    """Accent- and case-insensitive form of a name, one output char per input char.

    Keeps offsets valid, which entity spans need: every character maps to exactly one.
    """
    out: list[str] = []
    for char in text:
        base = unicodedata.normalize("NFD", char)[0].casefold()
        mapped = base.translate(_LETTERS) if len(base) == 1 else char
        out.append(mapped[0] if len(mapped) == 1 else (mapped[:1] or " "))
    return "".join(out)
