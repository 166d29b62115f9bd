"""Volunteers' links: payloads, QR codes, flyers, attribution counts, revocation, page and command."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import unicodedata
import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import cv2
import zxingcpp
from PIL import Image
import numpy as np
import pytest
import yaml
from fastapi import FastAPI
from fpdf import FPDF
from pypdf import PdfReader
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from api.flyer import STRINGS, FlyerUnavailable, find_fonts, render_flyer
from api.links_cli import app as links_cli
from bot.replies import Incoming
from core import links
from core.clock import utcnow
from core.db import transaction
from core.errors import InvalidInput, NotFound
from core.language import CURATED, direction
from core.municipality import municipality_by_slug
from core.person import Channel, Conversation
from core.referral import PAYLOAD_PATTERN, LinkCode, resolve_code
from core.settings import Settings

with warnings.catch_warnings():  # this Starlette asks for `httpx2`; the httpx client still works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.db

PUBLIC_URL = "https://lotse.example.org"
BOT_USERNAME = "LotseTestBot"

FLYER_TEXTS: dict[str, dict[str, str]] = yaml.safe_load(STRINGS.read_text(encoding="utf-8"))["flyer"]
needs_poppler = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not installed")


def _decode_qr(png: bytes) -> str:
    """Decode with ZXing (robust on printed pages); OpenCV's detector as a second reader."""
    image = Image.open(io.BytesIO(png)).convert("L")
    found = zxingcpp.read_barcodes(image)
    if found:
        return str(found[0].text)
    array = cv2.imdecode(np.frombuffer(png, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(array)
    return str(text)


def _rasterise(pdf: bytes, tmp_path: Path, dpi: int = 150) -> bytes:
    """Render page 1 with poppler: what a printer or a viewer would show."""
    source = tmp_path / "page.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(source), str(tmp_path / "page")],
                   check=True, timeout=60)
    return (tmp_path / "page.png").read_bytes()


def _flat(text: str) -> str:
    """Extracted text compared without presentation forms (NFKC) and without line breaks."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


@pytest.fixture
def links_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, public_url=PUBLIC_URL, telegram_bot_username=BOT_USERNAME)


@pytest.fixture
def links_client(engine: Engine, synced_session: Session, links_settings: Settings) -> Iterator[TestClient]:
    """The links router alone, as lotse/app.py mounts it, with app.state.engine and settings."""
    from api.links import router

    app = FastAPI()
    app.state.engine = engine
    app.state.settings = links_settings
    app.include_router(router)
    with TestClient(app) as client:
        yield client


# ---- payloads ------------------------------------------------------------------------------


def test_payload_round_trip_through_both_links(synced_session: Session, links_settings: Settings) -> None:
    link = links.create_code(synced_session, "moers", "ar", "integration_course")
    place = links.place_of(synced_session, link)
    targets = links.link_targets(links_settings, link, place)

    telegram = urlsplit(targets.telegram or "")
    assert (telegram.scheme, telegram.netloc, telegram.path) == ("https", "t.me", f"/{BOT_USERNAME}")
    start = parse_qs(telegram.query)["start"][0]
    web = urlsplit(targets.webchat or "")
    assert f"{web.scheme}://{web.netloc}" == PUBLIC_URL and web.path == "/chat/moers"
    query = parse_qs(web.query)
    assert query["lang"] == ["ar"] and query["ref"] == [start]

    resolved = resolve_code(synced_session, start)
    assert resolved is not None and resolved.id == link.id
    assert (resolved.municipality_id, resolved.language, resolved.topic) == (place.id, "ar", "integration_course")


def test_every_payload_fits_telegram(synced_session: Session) -> None:
    """Telegram allows 1-64 characters of A-Z a-z 0-9 _ - in a start parameter."""
    codes = {links.create_code(synced_session, "koeln", "uk").code for _ in range(200)}
    assert len(codes) == 200
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", code) for code in codes)


@pytest.mark.parametrize("payload", ["x" * 65, "abc def", "abc+def", "ab/cd", "", "ä" * 10])
def test_payloads_beyond_the_limit_resolve_to_nothing(synced_session: Session, payload: str) -> None:
    synced_session.add(LinkCode(code=payload[:64] or "e", language="de"))
    synced_session.flush()
    assert not PAYLOAD_PATTERN.match(payload)
    assert resolve_code(synced_session, payload) is None


def test_create_code_rejects_what_the_bot_cannot_open(synced_session: Session) -> None:
    with pytest.raises(NotFound):
        links.create_code(synced_session, "atlantis", "de")
    with pytest.raises(InvalidInput):
        links.create_code(synced_session, "moers", "xx")
    with pytest.raises(InvalidInput):
        links.create_code(synced_session, "moers", "de", "not_a_topic")
    with pytest.raises(InvalidInput):
        links.create_code(synced_session, "moers", "de", expires_days=0)
    assert links.create_code(synced_session, "moers", "AR-sy", "book").language == "ar"


# ---- expiry and revocation -----------------------------------------------------------------


def test_revoked_and_expired_codes_resolve_to_none(synced_session: Session) -> None:
    now = utcnow()
    revoked = links.create_code(synced_session, "hamm", "tr")
    expiring = links.create_code(synced_session, "hamm", "tr", expires_days=7, now=now)
    links.revoke(synced_session, revoked.code, now=now)

    assert resolve_code(synced_session, revoked.code) is None
    assert links.status_of(revoked) is links.LinkStatus.REVOKED
    assert resolve_code(synced_session, expiring.code, now=now + timedelta(days=6)) is not None
    assert resolve_code(synced_session, expiring.code, now=now + timedelta(days=7)) is None
    assert links.status_of(expiring, now + timedelta(days=8)) is links.LinkStatus.EXPIRED


def _start(lotse, payload: str, external_id: str) -> Conversation:  # type: ignore[no-untyped-def]
    lotse.dialogue.handle(
        Incoming(Channel.TELEGRAM, external_id, update_key=f"start-{external_id}", command="start", payload=payload)
    )
    with Session(lotse.db) as session:
        conversations = session.exec(select(Conversation).order_by(Conversation.id.desc())).all()  # type: ignore[union-attr]
    return conversations[0]


def test_revoked_or_expired_code_starts_the_bot_normally(lotse) -> None:  # type: ignore[no-untyped-def]
    with transaction(lotse.db) as session:
        active = links.create_code(session, "moers", "ar", "housing").code
        revoked = links.create_code(session, "moers", "ar", "housing").code
        links.revoke(session, revoked)
        expired = links.create_code(session, "moers", "ar", expires_days=1, now=utcnow() - timedelta(days=2)).code
        moers_id = municipality_by_slug(session, "moers").id

    preset = _start(lotse, active, "1001")
    assert (preset.municipality_id, preset.language, preset.referrer_code) == (moers_id, "ar", active)

    for number, code in enumerate((revoked, expired), start=1002):
        conversation = _start(lotse, code, str(number))
        assert conversation.municipality_id is None
        assert conversation.language is None
        assert conversation.referrer_code is None
        assert conversation.state == "language"  # asked for a language, as without any link

    with Session(lotse.db) as session:
        counted = {c.code: c.conversations for c in session.exec(select(LinkCode)).all()}
    assert counted == {active: 1, revoked: 0, expired: 0}


# ---- attribution ---------------------------------------------------------------------------


def test_dialogue_counts_conversations_and_questions_with_the_small_count_rule(lotse) -> None:  # type: ignore[no-untyped-def]
    with transaction(lotse.db) as session:
        referrer, _ = links.register_referrer(session, "Café Welcome Moers")
        busy = links.create_code(session, "moers", "de", referrer=referrer).code
        quiet = links.create_code(session, "moers", "de", referrer=referrer).code

    for person in range(5):
        _start(lotse, busy, f"b{person}")
        lotse.dialogue.handle(Incoming(Channel.TELEGRAM, f"b{person}", update_key=f"q-b{person}", action="topic:housing"))
    for person in range(4):
        _start(lotse, quiet, f"q{person}")

    with Session(lotse.db) as session:
        raw = {c.code: (c.conversations, c.questions) for c in session.exec(select(LinkCode)).all()}
        shown = {row.code: row for row in links.counts_for_referrer(session, referrer)}
    assert raw == {busy: (5, 5), quiet: (4, 0)}
    assert (shown[busy].conversations, shown[busy].questions, shown[busy].bookings) == (5, 5, "<5")
    assert (shown[quiet].conversations, shown[quiet].questions) == ("<5", "<5")


@pytest.mark.parametrize(("value", "shown"), [(0, "<5"), (1, "<5"), (4, "<5"), (5, 5), (17, 17)])
def test_counts_under_five_are_hidden(synced_session: Session, value: int, shown: object) -> None:
    referrer, _ = links.register_referrer(synced_session, "Diakonie")
    link = links.create_code(synced_session, "koeln", "fa", referrer=referrer)
    link.bookings = value
    synced_session.add(link)
    [row] = links.counts_for_referrer(synced_session, referrer)
    assert row.bookings == shown


def test_referrer_sees_and_revokes_only_own_codes(links_client: TestClient) -> None:
    alice = links_client.post("/api/referrers", json={"name": "Flüchtlingshilfe Hamm"}).json()
    bob = links_client.post("/api/referrers", json={"name": "Bob"}).json()
    assert alice["access_key"] != bob["access_key"] and set(alice) == {"referrer_id", "access_key"}
    a_key, b_key = {"X-Referrer-Key": alice["access_key"]}, {"X-Referrer-Key": bob["access_key"]}
    mine = links_client.post("/api/links", json={"municipality": "hamm", "language": "ar"}, headers=a_key)
    theirs = links_client.post("/api/links", json={"municipality": "hamm", "language": "uk", "topic": "book"}, headers=b_key)
    anonymous = links_client.post("/api/links", json={"municipality": "hamm", "language": "tr"})
    assert mine.status_code == theirs.status_code == anonymous.status_code == 201

    listed = links_client.get("/api/referrers/me/codes", headers=a_key)
    assert listed.status_code == 200
    assert [row["code"] for row in listed.json()] == [mine.json()["code"]]
    assert listed.json()[0]["conversations"] == "<5" and listed.json()[0]["status"] == "active"

    assert links_client.get("/api/referrers/me/codes").status_code == 403
    assert links_client.get("/api/referrers/me/codes", headers={"X-Referrer-Key": "lrk_guess"}).status_code == 403
    code_b = theirs.json()["code"]
    assert links_client.post(f"/api/links/{code_b}/revoke", headers=a_key).status_code == 404
    assert links_client.post(f"/api/links/{anonymous.json()['code']}/revoke", headers=a_key).status_code == 404
    revoked = links_client.post(f"/api/links/{code_b}/revoke", headers=b_key)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert links_client.get(f"/links/{code_b}/qr.png").status_code == 410


def test_referrer_key_is_stored_only_as_a_hash(synced_session: Session) -> None:
    referrer, key = links.register_referrer(synced_session, "  Caritas   Köln ")
    assert referrer.name == "Caritas Köln"
    assert key not in referrer.access_key_hash and len(referrer.access_key_hash) == 64
    assert links.authenticate_referrer(synced_session, key).id == referrer.id


# ---- QR codes ------------------------------------------------------------------------------


def test_qr_png_decodes_back_to_the_links(links_client: TestClient) -> None:
    created = links_client.post("/api/links", json={"municipality": "dormagen", "language": "uk"}).json()
    png = links_client.get(f"/links/{created['code']}/qr.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert _decode_qr(png.content) == created["telegram"]
    web = links_client.get(f"/links/{created['code']}/qr.png?target=web")
    assert _decode_qr(web.content) == created["webchat"]


@needs_poppler
def test_qr_svg_decodes_back_to_the_link(links_client: TestClient, tmp_path: Path) -> None:
    """No SVG rasteriser in Python: fpdf2 draws the served SVG into a PDF and poppler renders it."""
    created = links_client.post("/api/links", json={"municipality": "kreis-lippe", "language": "fa"}).json()
    svg = links_client.get(f"/links/{created['code']}/qr.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    pdf = FPDF(unit="mm", format=(80, 80))
    pdf.add_page()
    with pytest.warns(UserWarning, match="viewBox"):  # segno writes width/height, fpdf2 notes it
        pdf.image(io.BytesIO(svg.content), x=5, y=5, w=70, h=70)
    assert _decode_qr(_rasterise(bytes(pdf.output()), tmp_path)) == created["telegram"]


def test_unknown_code_has_no_qr(links_client: TestClient) -> None:
    assert links_client.get("/links/doesNotExist1/qr.svg").status_code == 404
    assert links_client.get("/links/bad%20code/qr.png").status_code == 404


# ---- flyers --------------------------------------------------------------------------------


def _flyer_text_checks(text: str, language: str) -> None:
    """Titles and the scan line verbatim; bodies verbatim except around a Latin word in RTL text.

    pypdf returns Arabic and Persian in logical order, but where a line mixes directions
    ('اكتب إلى Lotse بلغتك') it emits the runs in visual order; such sentences are checked word by
    word, every other sentence as a whole.
    """
    texts = FLYER_TEXTS[language]
    flat = _flat(text)
    assert _flat(texts["title"]) in flat
    assert _flat(texts["scan"]) in flat
    if direction(language) == "ltr":
        assert _flat(texts["body"]) in flat
        return
    sentences = [s.strip() + "." for s in texts["body"].split(".") if s.strip()]
    whole = [s for s in sentences if "Lotse" not in s]
    assert len(whole) >= 2
    for sentence in whole:
        assert _flat(sentence) in flat, sentence
    words = {w.strip(".،,؟:") for s in sentences if "Lotse" in s for w in s.split()} - {"Lotse", ""}
    found = {w for w in words if _flat(w) in flat}
    assert len(found) >= 0.8 * len(words), sorted(words - found)


@pytest.mark.parametrize("size", ["a4", "a6"])
@pytest.mark.parametrize("langs", [("de", "ar", "fa", "uk"), ("en", "ru", "tr"), ("fa",)])
def test_flyer_text_contains_each_chosen_language(links_client: TestClient, size: str, langs: tuple[str, ...]) -> None:
    created = links_client.post("/api/links", json={"municipality": "koeln", "language": langs[0]}).json()
    response = links_client.get(f"/links/{created['code']}/flyer.pdf", params={"size": size, "langs": ",".join(langs)})
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    page = reader.pages[0]
    expected_mm = {"a4": (210, 297), "a6": (105, 148)}[size]
    assert tuple(round(float(v) / 72 * 25.4) for v in (page.mediabox.width, page.mediabox.height)) == expected_mm
    text = page.extract_text()
    assert "Köln" in text and created["telegram"] in text
    for language in langs:
        _flyer_text_checks(text, language)
    for language in set(CURATED) - set(langs):
        assert _flat(FLYER_TEXTS[language]["title"]) not in _flat(text)


def test_flyer_embeds_noto_sans_and_noto_sans_arabic() -> None:
    """Arabic and Persian need a font with Arabic script; shaping itself was checked by eye (see report)."""
    reader = PdfReader(io.BytesIO(render_flyer("Hamm", "https://t.me/X?start=abc", ["ar", "fa", "de"])))
    fonts = reader.pages[0]["/Resources"]["/Font"]  # type: ignore[index]
    names = {str(ref.get_object()["/BaseFont"]).split("+")[-1] for ref in fonts.values()}
    assert {"NotoSansArabic", "NotoSans"} <= {n.split("-")[0] for n in names}, names


@needs_poppler
@pytest.mark.parametrize("size", ["a4", "a6"])
def test_printed_flyer_qr_decodes_back_to_the_link(links_client: TestClient, tmp_path: Path, size: str) -> None:
    created = links_client.post("/api/links", json={"municipality": "muenster", "language": "ar"}).json()
    pdf = links_client.get(f"/links/{created['code']}/flyer.pdf", params={"size": size, "langs": "ar,de,fa,uk"}).content
    assert _decode_qr(_rasterise(pdf, tmp_path, dpi=150 if size == "a4" else 300)) == created["telegram"]


@pytest.mark.parametrize(("langs", "status"), [("de,ar,fa,uk,tr", 422), ("de,xx", 422), ("", 200)])
def test_flyer_language_choice_is_checked(links_client: TestClient, langs: str, status: int) -> None:
    code = links_client.post("/api/links", json={"municipality": "moers", "language": "ru"}).json()["code"]
    response = links_client.get(f"/links/{code}/flyer.pdf", params={"langs": langs})
    assert response.status_code == status
    if status == 200:  # default: the code's language and German
        assert _flat(FLYER_TEXTS["ru"]["title"]) in _flat(PdfReader(io.BytesIO(response.content)).pages[0].extract_text())


def test_flyer_without_fonts_fails_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FlyerUnavailable, match="fonts-noto-core"):
        find_fonts((tmp_path,))


# ---- the page for volunteers ---------------------------------------------------------------


def test_links_page_creates_a_link_without_login_or_javascript(links_client: TestClient) -> None:
    page = links_client.get("/links")
    assert page.status_code == 200 and "<script" not in page.text
    assert 'value="moers"' in page.text and 'value="book"' in page.text and "العربية" in page.text
    assert 'lang="en"' in links_client.get("/links?ui=en").text

    result = links_client.post("/links", data={"municipality": "moers", "language": "ar", "topic": "integration_course", "ui": "en"})
    assert result.status_code == 201
    match = re.search(r"https://t\.me/LotseTestBot\?start=([A-Za-z0-9_-]+)", result.text)
    assert match and f"{PUBLIC_URL}/chat/moers?lang=ar&amp;ref={match.group(1)}" in result.text
    assert f"/links/{match.group(1)}/qr.svg" in result.text and "flyer.pdf" in result.text
    assert "Integration course" in result.text

    wrong = links_client.post("/links", data={"municipality": "moers", "language": "ar", "referrer_key": "lrk_nope"})
    assert wrong.status_code == 403


def test_page_registers_a_referrer_and_shows_own_counts(links_client: TestClient) -> None:
    registered = links_client.post("/links/referrers", data={"name": "Integrationslots*innen Dormagen"})
    assert registered.status_code == 201
    key = re.search(r'id="access-key">([^<]+)<', registered.text).group(1)  # type: ignore[union-attr]
    created = links_client.post("/links", data={"municipality": "dormagen", "language": "tr", "referrer_key": key})
    code = re.search(r'id="code">([^<]+)<', created.text).group(1)  # type: ignore[union-attr]
    other = links_client.post("/links", data={"municipality": "dormagen", "language": "de"})
    other_code = re.search(r'id="code">([^<]+)<', other.text).group(1)  # type: ignore[union-attr]

    mine = links_client.post("/links/mine", data={"referrer_key": key})
    assert mine.status_code == 200 and code in mine.text and other_code not in mine.text
    assert "&lt;5" in mine.text
    revoked = links_client.post("/links/mine", data={"referrer_key": key, "revoke": code})
    assert "Der Code ist widerrufen" in revoked.text and "<td>widerrufen</td>" in revoked.text
    assert f'value="{code}"' not in revoked.text  # no revoke button any more
    assert links_client.get(f"/links/{code}/flyer.pdf").status_code == 410


# ---- the command line ----------------------------------------------------------------------


def test_cli_creates_revokes_and_counts(engine: Engine, synced_session: Session, tmp_path: Path) -> None:
    app_settings = Settings(data_dir=tmp_path, database_url=engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    qr, flyer = tmp_path / "qr.png", tmp_path / "flyer.pdf"
    result = runner.invoke(
        links_cli,
        ["create", "--municipality", "hamm", "--language", "uk", "--topic", "book", "--referrer-name", "Welcome Hamm",
         "--expires-days", "30", "--qr-out", str(qr), "--flyer-out", str(flyer), "--flyer-size", "a6",
         "--flyer-langs", "uk,de"],
        obj=app_settings,
    )
    assert result.exit_code == 0, result.output
    telegram = re.search(r"telegram\s+(\S+)", result.output).group(1)  # type: ignore[union-attr]
    key = re.search(r"(lrk_\S+)", result.output).group(1)  # type: ignore[union-attr]
    code = parse_qs(urlsplit(telegram).query)["start"][0]
    assert _decode_qr(qr.read_bytes()) == telegram
    _flyer_text_checks(PdfReader(flyer).pages[0].extract_text(), "uk")

    stats = runner.invoke(links_cli, ["stats", "--referrer-key", key], obj=app_settings)
    assert stats.exit_code == 0 and code in stats.output and "<5" in stats.output
    assert runner.invoke(links_cli, ["revoke", code], obj=app_settings).exit_code == 0
    synced_session.expire_all()
    assert resolve_code(synced_session, code) is None
    synced_session.rollback()  # end the read: SQLite transactions here take the write lock
    assert runner.invoke(links_cli, ["stats", "--referrer-key", "lrk_wrong"], obj=app_settings).exit_code == 2
    assert runner.invoke(links_cli, ["create", "--municipality", "atlantis", "--language", "de"], obj=app_settings).exit_code == 1


def test_a_switched_off_channel_gets_no_link(synced_session: Session, links_settings: Settings) -> None:
    place = municipality_by_slug(synced_session, "hamm")
    place.telegram_enabled = False
    synced_session.add(place)
    link = links.create_code(synced_session, "hamm", "ar")
    targets = links.link_targets(links_settings, link, place)
    assert targets.telegram is None and targets.webchat is not None
    assert targets.preferred == targets.webchat
    place.webchat_enabled = False
    with pytest.raises(InvalidInput):
        links.create_code(synced_session, "hamm", "ar")
    assert "hamm" not in {p.slug for p in links.linkable_municipalities(synced_session)}


def test_codes_never_start_with_a_dash() -> None:
    """`lotse links revoke -abc` would read the code as an option (this made a test flaky)."""
    from core.referral import new_code

    codes = [new_code() for _ in range(3000)]  # about 47 would start with "-" without the rule
    assert not [c for c in codes if c.startswith("-")]
    assert all(len(c) == 12 for c in codes) and len(set(codes)) == len(codes)
