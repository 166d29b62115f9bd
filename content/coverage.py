"""Which answer each municipality gets per topic and language: the matrix editors work from."""

from __future__ import annotations

import html
import json
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Literal

from content.library import ContentLibrary
from content.loader import ContentSet
from core.intents import topic_names
from core.language import CURATED

CoverageLevel = Literal["local", "kreis", "state", "federal", "missing"]
LEVELS: tuple[CoverageLevel, ...] = ("local", "kreis", "state", "federal", "missing")
_SHORT = {"local": "L", "kreis": "K", "state": "S", "federal": "F", "missing": "-"}
_COLOURS = {
    "local": "#1b7f3b", "kreis": "#5aa55a", "state": "#a9cf7a", "federal": "#e3e8a0",
    "missing": "#e06060",
}


@dataclass(frozen=True)
class CoverageRow:
    municipality: str
    topic: str
    language: str
    level: CoverageLevel
    status: str


def coverage_rows(content: ContentSet, library: ContentLibrary | None = None) -> list[CoverageRow]:
    """Every topic intent x curated language x municipality below the state."""
    library = library or ContentLibrary(content)
    rows = []
    for municipality in content.municipalities:
        if municipality.kind == "state":
            continue
        for topic in topic_names():
            for language in CURATED:
                answer = library.answer_for(topic, municipality.slug, language)
                if answer is None or answer.language != language:
                    rows.append(CoverageRow(municipality.slug, topic, language, "missing",
                                            "unverified"))
                else:
                    rows.append(CoverageRow(municipality.slug, topic, language, answer.level,
                                            answer.status))
    return rows


def render_json(rows: list[CoverageRow]) -> str:
    return json.dumps([asdict(row) for row in rows], ensure_ascii=False, indent=1)


def _totals(rows: list[CoverageRow]) -> str:
    levels = Counter(row.level for row in rows)
    statuses = Counter(row.status for row in rows if row.level != "missing")
    return (
        f"{len(rows)} rows: "
        + ", ".join(f"{level} {levels[level]}" for level in LEVELS)
        + " | " + ", ".join(f"{status} {count}" for status, count in sorted(statuses.items()))
    )


def render_text(rows: list[CoverageRow]) -> str:
    """One line per municipality and topic; one letter per language (L K S F, - missing)."""
    topics = list(dict.fromkeys(row.topic for row in rows))
    width = max((len(t) for t in topics), default=5)
    cells: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        mark = _SHORT[row.level] + ("*" if row.status in ("outdated", "machine") else "")
        cells.setdefault((row.municipality, row.topic), []).append(f"{mark:<2}")
    languages = list(dict.fromkeys(row.language for row in rows))
    lines = ["Level: L local, K Kreis, S state, F federal, - missing; * machine or outdated", ""]
    for municipality in dict.fromkeys(row.municipality for row in rows):
        lines.append(f"{municipality}")
        lines.append(f"  {'':<{width}}  " + " ".join(f"{lang:<2}" for lang in languages))
        for topic in topics:
            lines.append(f"  {topic:<{width}}  " + " ".join(cells[(municipality, topic)]))
    lines += ["", _totals(rows)]
    return "\n".join(lines) + "\n"


def render_html(rows: list[CoverageRow]) -> str:
    """A self-contained page: one table per municipality, a cell per topic and language."""
    languages = list(dict.fromkeys(row.language for row in rows))
    topics = list(dict.fromkeys(row.topic for row in rows))
    by_key = {(r.municipality, r.topic, r.language): r for r in rows}
    css = "".join(
        f".{level}{{background:{colour}}}" for level, colour in _COLOURS.items()
    )
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Lotse content coverage</title><style>",
        "body{font-family:sans-serif;margin:1rem}table{border-collapse:collapse;margin:0 0 2rem}",
        "td,th{border:1px solid #999;padding:2px 6px;font-size:13px}td{text-align:center}",
        ".outdated,.machine{font-style:italic;text-decoration:underline dotted}",
        css, "</style></head><body><h1>Content coverage</h1>",
        f"<p>{html.escape(_totals(rows))}</p><p>",
        " ".join(f"<span class='{level}'>&nbsp;{level}&nbsp;</span>" for level in LEVELS),
        "</p>",
    ]
    for municipality in dict.fromkeys(row.municipality for row in rows):
        parts.append(f"<h2>{html.escape(municipality)}</h2><table><tr><th>topic</th>")
        parts += [f"<th>{html.escape(lang)}</th>" for lang in languages]
        parts.append("</tr>")
        for topic in topics:
            parts.append(f"<tr><th>{html.escape(topic)}</th>")
            for language in languages:
                row = by_key.get((municipality, topic, language))
                if row is None:
                    parts.append("<td></td>")
                    continue
                parts.append(
                    f"<td class='{row.level} {row.status}' title='{row.status}'>"
                    f"{_SHORT[row.level]}</td>"
                )
            parts.append("</tr>")
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "".join(parts)
