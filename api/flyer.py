"""Printable flyers (A4, A6): the QR code, the place and a short invitation in up to four languages."""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from api.qr import qr_svg_for_print
from core.errors import InvalidInput
from core.language import CURATED, direction

STRINGS = Path(__file__).with_name("links_strings.yml")
MAX_LANGUAGES = 4
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/noto"),  # Debian/Ubuntu: fonts-noto-core
    Path("/usr/share/fonts/noto"),  # Fedora, Arch
    Path("/usr/local/share/fonts/noto"),
)
LATIN, ARABIC = "NotoSans", "NotoSansArabic"
INK = (20, 40, 60)
ACCENT = (0, 95, 115)


class FlyerSize(StrEnum):
    A4 = "a4"
    A6 = "a6"


@dataclass(frozen=True)
class Geometry:
    width: float
    height: float
    margin: float
    place_pt: float
    qr_mm: float
    link_pt: float
    title_pt: float  # starting sizes; shrunk until the texts fit
    body_pt: float
    min_body_pt: float


GEOMETRY = {
    FlyerSize.A4: Geometry(210, 297, 16, 30, 74, 9, 15, 12, 7.5),
    FlyerSize.A6: Geometry(105, 148, 7, 15, 38, 5.5, 8.5, 7, 4.5),
}


class FlyerUnavailable(RuntimeError):
    """The fonts or the shaping engine a correct flyer needs are not installed."""


@dataclass(frozen=True)
class Invitation:
    language: str
    title: str
    body: str
    scan: str


@cache
def _flyer_strings() -> dict[str, dict[str, str]]:
    data = yaml.safe_load(STRINGS.read_text(encoding="utf-8"))
    return data["flyer"]  # type: ignore[no-any-return]


def invitation(language: str) -> Invitation:
    texts = _flyer_strings()[language]
    return Invitation(language, texts["title"], texts["body"], texts["scan"])


def choose_languages(requested: str | None, default: list[str]) -> list[str]:
    """Comma-separated tags -> up to four curated languages, in the given order, without repeats."""
    raw = [t.strip().lower() for t in requested.split(",")] if requested else default
    chosen: list[str] = []
    for tag in raw:
        if not tag:
            continue
        if tag not in CURATED:
            raise InvalidInput(f"language {tag!r} is not served")
        if tag not in chosen:
            chosen.append(tag)
    if not chosen:
        raise InvalidInput("choose at least one language")
    if len(chosen) > MAX_LANGUAGES:
        raise InvalidInput(f"a flyer holds at most {MAX_LANGUAGES} languages")
    return chosen


def find_fonts(font_dirs: tuple[Path, ...] = FONT_DIRS) -> dict[str, Path]:
    """Regular (and bold, if present) Noto Sans and Noto Sans Arabic, or a clear error."""
    for directory in font_dirs:
        regular = {LATIN: directory / "NotoSans-Regular.ttf", ARABIC: directory / "NotoSansArabic-Regular.ttf"}
        if all(p.is_file() for p in regular.values()):
            found = dict(regular)
            for family, name in ((LATIN, "NotoSans-Bold.ttf"), (ARABIC, "NotoSansArabic-Bold.ttf")):
                if (directory / name).is_file():
                    found[family + "B"] = directory / name
            return found
    raise FlyerUnavailable(
        "the flyer needs the Noto Sans and Noto Sans Arabic fonts "
        f"(looked in {', '.join(map(str, font_dirs))}); on Debian: apt-get install fonts-noto-core"
    )


def _check_shaping_engine() -> None:
    try:
        import uharfbuzz  # noqa: F401
    except ImportError as exc:
        raise FlyerUnavailable(
            "the flyer needs the HarfBuzz shaping engine for Arabic and Persian: pip install uharfbuzz"
        ) from exc


@cache
def _flyer_class() -> type[Any]:
    """fpdf2 (with Pillow and fontTools, ~50 MB) is imported when the first flyer is made,
    not by every process that serves the chat."""
    from fpdf import FPDF
    from fpdf.enums import Align, XPos, YPos

    class _Flyer(FPDF):
        def __init__(self, size: FlyerSize, fonts: dict[str, Path]) -> None:
            super().__init__(orientation="portrait", unit="mm", format=(GEOMETRY[size].width, GEOMETRY[size].height))
            self.geometry = GEOMETRY[size]
            self.set_margins(self.geometry.margin, self.geometry.margin, self.geometry.margin)
            self.set_auto_page_break(False)
            self.set_creator("Lotse")
            for family in (LATIN, ARABIC):
                self.add_font(family, "", str(fonts[family]))
                self.add_font(family, "B", str(fonts.get(family + "B", fonts[family])))
            self.set_text_shaping(True)

        def use(self, language: str, bold: bool, size: float) -> None:
            """Arabic-script text in Noto Sans Arabic (Latin words like 'Lotse' fall back to Noto Sans)."""
            rtl = direction(language) == "rtl"
            # Arabic script looks smaller than Latin at the same size: give it a tenth more.
            self.set_font(ARABIC if rtl else LATIN, "B" if bold else "", size * (1.1 if rtl else 1.0))
            self.set_fallback_fonts([LATIN] if rtl else [ARABIC])
            self.set_text_shaping(
                True, direction="rtl" if rtl else "ltr", script="arab" if rtl else None, language=language
            )

        def block(self, item: Invitation, title_pt: float, body_pt: float, dry_run: bool = False) -> float:
            """One language's invitation; returns its height in mm."""
            width = self.epw
            align = Align.R if direction(item.language) == "rtl" else Align.L
            height = 0.0
            for text, bold, size, gap in (
                (item.title, True, title_pt, 0.35),
                (item.body, False, body_pt, 0.25),
                (item.scan, False, body_pt, 0.0),
            ):
                self.use(item.language, bold, size)
                self.set_text_color(*(ACCENT if bold else INK))
                line = size * 0.3528 * 1.45
                used = self.multi_cell(
                    width, line, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT,
                    dry_run=dry_run, output="HEIGHT",
                )
                height += float(used) + line * gap  # type: ignore[arg-type]
                if not dry_run:
                    self.set_y(self.get_y() + line * gap)
            return height

    return _Flyer


def render_flyer(
    place_name: str,
    link: str,
    languages: list[str],
    size: FlyerSize = FlyerSize.A4,
    web_link: str | None = None,
    font_dirs: tuple[Path, ...] = FONT_DIRS,
) -> bytes:
    """A one-page PDF: place, invitations (shrunk to fit), the QR code and the link written out."""
    fonts = find_fonts(font_dirs)
    _check_shaping_engine()
    items = [invitation(language) for language in choose_languages(",".join(languages), [])]
    from fpdf.enums import Align, XPos, YPos

    pdf = _flyer_class()(size, fonts)
    g = pdf.geometry
    pdf.set_title(f"Lotse – {place_name}")
    pdf.add_page()

    pdf.set_fill_color(*ACCENT)
    band = g.place_pt * 0.3528 * 2.1
    pdf.rect(0, 0, g.width, band + g.margin * 0.6, style="F")
    pdf.set_text_color(255, 255, 255)
    heading = f"Lotse · {place_name}"
    place_pt = g.place_pt
    pdf.use("de", True, place_pt)
    while pdf.get_string_width(heading) > pdf.epw and place_pt > g.place_pt / 2:
        place_pt *= 0.93
        pdf.use("de", True, place_pt)
    pdf.set_xy(g.margin, g.margin * 0.4)
    pdf.cell(pdf.epw, band, heading, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    top = band + g.margin * 1.2

    link_lines = [link] + ([web_link] if web_link and web_link != link else [])
    link_height = len(link_lines) * g.link_pt * 0.3528 * 1.5
    qr_top = g.height - g.margin - link_height - g.qr_mm
    room = qr_top - top - g.margin * 0.5
    gap = g.margin * 0.6
    grow = {1: 1.6, 2: 1.3, 3: 1.1}.get(len(items), 1.0)  # fewer languages: larger type
    title_pt, body_pt = g.title_pt * grow, g.body_pt * grow
    while True:
        needed = sum(pdf.block(i, title_pt, body_pt, dry_run=True) for i in items) + gap * (len(items) - 1)
        if needed <= room or body_pt <= g.min_body_pt:
            break
        title_pt, body_pt = title_pt * 0.95, body_pt * 0.95
    spare = max(0.0, room - needed)
    pdf.set_y(top + spare / 3)
    for index, item in enumerate(items):
        if index:
            y = pdf.get_y() + gap / 2
            pdf.set_draw_color(200, 210, 215)
            pdf.line(g.margin, y, g.width - g.margin, y)
            pdf.set_y(pdf.get_y() + gap + spare / (3 * max(1, len(items) - 1)))
        pdf.block(item, title_pt, body_pt)

    pdf.image(io.BytesIO(qr_svg_for_print(link)), x=(g.width - g.qr_mm) / 2, y=qr_top, w=g.qr_mm, h=g.qr_mm)
    pdf.set_text_color(*INK)
    pdf.use("en", False, g.link_pt)
    pdf.set_xy(g.margin, qr_top + g.qr_mm)
    for line in link_lines:
        pdf.cell(pdf.epw, g.link_pt * 0.3528 * 1.5, line, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
