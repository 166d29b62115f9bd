"""The consent as a bilingual PDF: the person's language beside the binding German text.

Arabic and Persian are shaped and laid out right-to-left by HarfBuzz (fpdf2 text shaping);
the fonts are Debian's Noto fonts (package fonts-noto-core).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import InvalidInput
from core.language import NATIVE_NAMES, direction

if TYPE_CHECKING:  # fpdf2 (~50 MB with Pillow) loads with the first PDF, not at start-up
    from fpdf import FPDF

FONT_DIR = Path("/usr/share/fonts/truetype/noto")
LATIN_FONT = "NotoSans-Regular.ttf"
LATIN_BOLD = "NotoSans-Bold.ttf"
ARABIC_FONT = "NotoSansArabic-Regular.ttf"
ARABIC_BOLD = "NotoSansArabic-Bold.ttf"
KIND_TITLES = {
    "data_protection": "Einwilligungserklärung (Datenschutz)",
    "confidentiality_release": "Schweigepflichtentbindung",
}


@dataclass(frozen=True)
class ConsentDocument:
    """Everything printed: the texts as shown to the person and the record's facts."""

    kind: str
    language: str
    version: int
    channel: str
    given_at: datetime
    text_sha256: str
    summary: str
    full_text: str
    binding_de: str
    german_summary: str
    german_full_text: str
    reference: str | None = None
    team: str | None = None
    recipients: list[str] = field(default_factory=list)
    withdrawn_at: datetime | None = None
    text_verified: bool | None = None


def _fonts(pdf: FPDF, font_dir: Path) -> None:
    for family, regular, bold in (("latin", LATIN_FONT, LATIN_BOLD), ("arabic", ARABIC_FONT, ARABIC_BOLD)):
        if not (font_dir / regular).is_file():
            raise InvalidInput(f"font {font_dir / regular} missing: apt-get install fonts-noto-core")
        pdf.add_font(family, "", str(font_dir / regular))
        pdf.add_font(family, "B", str(font_dir / (bold if (font_dir / bold).is_file() else regular)))


def _family(language: str) -> str:
    return "arabic" if direction(language) == "rtl" else "latin"


def _rows(left: str, right: str) -> list[tuple[str, str]]:
    """Paragraphs paired by position (the translations keep the German line structure)."""
    a = [line for line in left.strip().split("\n") if line.strip()]
    b = [line for line in right.strip().split("\n") if line.strip()]
    if len(a) != len(b):
        return [("\n".join(a), "\n".join(b))]
    return list(zip(a, b, strict=True))


def _cell(pdf: FPDF, width: float, text: str, language: str, size: float, dry: bool) -> float:
    from fpdf.enums import XPos, YPos
    rtl = direction(language) == "rtl"
    pdf.set_font(_family(language), size=size)
    pdf.set_fallback_fonts(["latin"] if rtl else ["arabic"])
    pdf.set_text_shaping(True, direction="rtl" if rtl else "ltr")
    height = pdf.multi_cell(
        width, size * 0.5, text, align="R" if rtl else "L",
        new_x=XPos.RIGHT, new_y=YPos.TOP, dry_run=dry, output="HEIGHT",
    )
    pdf.set_text_shaping(True, direction="ltr")
    return float(height)  # type: ignore[arg-type]


def _column_pair(pdf: FPDF, left: str, right: str, right_language: str, size: float) -> None:
    """German on the left, the person's language on the right, paragraph beside paragraph."""
    gap = 6.0
    width = (pdf.epw - gap) / 2
    for german, other in _rows(left, right):
        needed = max(_cell(pdf, width, german, "de", size, True), _cell(pdf, width, other, right_language, size, True))
        if pdf.get_y() + needed > pdf.page_break_trigger:
            pdf.add_page()
        top = pdf.get_y()
        pdf.set_x(pdf.l_margin)
        _cell(pdf, width, german, "de", size, False)
        pdf.set_xy(pdf.l_margin + width + gap, top)
        _cell(pdf, width, other, right_language, size, False)
        pdf.set_xy(pdf.l_margin, top + needed + 1.5)
    pdf.ln(2)


def _heading(pdf: FPDF, text: str, size: float = 11) -> None:
    from fpdf.enums import XPos, YPos
    pdf.set_font("latin", "B", size)
    pdf.set_fallback_fonts(["arabic"])
    pdf.multi_cell(0, size * 0.55, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)


def render_consent_pdf(document: ConsentDocument, font_dir: Path = FONT_DIR) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_margins(15, 15, 15)
    _fonts(pdf, font_dir)
    pdf.set_text_shaping(True)
    pdf.set_title(f"Lotse – {KIND_TITLES.get(document.kind, document.kind)}")
    pdf.set_creator("Lotse")
    pdf.add_page()
    _heading(pdf, KIND_TITLES.get(document.kind, document.kind), 15)
    facts = [
        f"Version {document.version} · Sprache: {NATIVE_NAMES.get(document.language, document.language)}"
        f" ({document.language}) · Kanal: {document.channel}",
        f"Erteilt am: {document.given_at:%d.%m.%Y %H:%M} UTC"
        + (f" · Widerrufen am: {document.withdrawn_at:%d.%m.%Y %H:%M} UTC" if document.withdrawn_at else ""),
        f"SHA-256 des gezeigten Textes: {document.text_sha256}",
    ]
    if document.text_verified is not None:
        facts.append("Textfassung geprüft: " + ("stimmt überein" if document.text_verified else "weicht ab"))
    if document.reference:
        facts.append(f"Termin: {document.reference}" + (f" · Team: {document.team}" if document.team else ""))
    if document.recipients:
        facts.append("Empfänger: " + "; ".join(document.recipients))
    pdf.set_font("latin", size=9)
    pdf.set_fallback_fonts(["arabic"])
    for line in facts:
        pdf.multi_cell(0, 5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    native = NATIVE_NAMES.get(document.language, document.language)
    if document.language != "de":
        _heading(pdf, f"Kurzfassung — Deutsch | {native}")
        _column_pair(pdf, document.german_summary, document.summary, document.language, 9.5)
        _heading(pdf, f"Ausführlicher Text — Deutsch | {native}")
        _column_pair(pdf, document.german_full_text, document.full_text, document.language, 9.5)
    else:
        _heading(pdf, "Kurzfassung")
        _column_pair(pdf, document.summary, document.full_text, "de", 9.5)
    _heading(pdf, "Verbindlicher Text (Deutsch)")
    pdf.set_font("latin", size=9.5)
    pdf.multi_cell(0, 4.8, document.binding_de.strip(), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    pdf.set_font("latin", size=8)
    pdf.multi_cell(
        0, 4,
        (
            "Maßgeblich ist der deutsche Text. Die Übersetzung dient dem Verständnis. "
            "Die Einwilligung wurde im Chat mit einer ausdrücklichen Zustimmung erteilt."
        ),
        new_x=XPos.LMARGIN, new_y=YPos.NEXT,
    )
    return bytes(pdf.output())
