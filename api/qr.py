"""QR codes for links (segno): SVG for screens and print, PNG for messengers and office tools."""

from __future__ import annotations

import io

import segno

# "M" survives a crease or a smudge on a printed flyer and keeps short links small.
ERROR_CORRECTION = "m"


def _qr(link: str) -> segno.QRCode:
    return segno.make_qr(link, error=ERROR_CORRECTION, boost_error=True)


def qr_svg(link: str, scale: int = 8) -> bytes:
    """A standalone SVG with the quiet zone the standard asks for (4 modules)."""
    buffer = io.BytesIO()
    _qr(link).save(buffer, kind="svg", scale=scale, border=4, xmldecl=True, title=link)
    return buffer.getvalue()


def qr_svg_for_print(link: str) -> bytes:
    """An SVG without size, title or XML declaration: scales to any box (used inside the flyer PDF)."""
    buffer = io.BytesIO()
    _qr(link).save(buffer, kind="svg", border=4, xmldecl=False, omitsize=True, svgns=True)
    return buffer.getvalue()


def qr_png(link: str, scale: int = 10) -> bytes:
    buffer = io.BytesIO()
    _qr(link).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
