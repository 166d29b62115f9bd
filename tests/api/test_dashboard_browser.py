"""The dashboard in headless Chromium: log in, see a booked intake, acknowledge it, download
the consent PDF, add availability."""

from __future__ import annotations

import io
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from pypdf import PdfReader
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.app import include_api
from core.availability import WeeklyHours
from core.booking import Booking, BookingStatus
from core.crypto import FieldCipher
from core.settings import Settings
from tests.api.conftest import PASSWORD, make_intake, team, user_for

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [pytest.mark.db, pytest.mark.browser, pytest.mark.slow]


def _require_chromium() -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("/usr/bin/chromium is missing (apt-get install chromium)")
        pytest.skip("/usr/bin/chromium is missing: apt-get install chromium to run browser tests")


@pytest.fixture
def live_url(api_engine: Engine, app_settings: Settings, lotse) -> Iterator[str]:  # type: ignore[no-untyped-def]
    from lotse.app import create_app

    app = create_app(app_settings, lotse)
    include_api(app)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    yield url
    server.should_exit = True
    thread.join(timeout=10)


def test_case_manager_workflow(live_url: str, api_engine: Engine, lotse, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _require_chromium()
    from playwright.sync_api import sync_playwright

    cipher: FieldCipher = lotse.services.cipher
    with Session(api_engine, expire_on_commit=False) as session:
        made = make_intake(session, cipher, language="ar", name="Sarah")
        email = user_for(session)
        hours_before = len(session.exec(select(WeeklyHours).where(WeeklyHours.team_id == team(session).id)).all())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(accept_downloads=True, locale="de-DE")
        page.goto(f"{live_url}/dashboard/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/dashboard/intakes")
        page.select_option("select[name=zeitraum]", "alle")
        page.click("text=Filtern")
        row = page.locator("tr", has_text="Sarah")
        assert row.count() == 1
        assert "Dolmetschung Arabisch" in row.inner_text()
        row.locator("a").first.click()
        page.wait_for_url(f"**/dashboard/intakes/{made.booking.id}")
        assert page.locator("#status").inner_text() == "neu"
        page.click("button[value=acknowledge]")
        page.wait_for_selector("text=Status: Gesehen")
        assert page.locator("#status").inner_text() == "gesehen"
        with page.expect_download() as download_info:
            page.click("text=PDF herunterladen")
        pdf_path = tmp_path / "consent.pdf"
        download_info.value.save_as(pdf_path)
        text = " ".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_path.read_bytes())).pages).split())
        assert "Ich willige ein, dass Lotse" in text
        page.click("text=Verfügbarkeit")
        page.wait_for_url("**/dashboard/verfuegbarkeit")
        page.select_option("#add-hours select[name=weekday]", "5")
        page.fill("#add-hours input[name=start_time]", "10:00")
        page.fill("#add-hours input[name=end_time]", "11:30")
        page.click("#add-hours button")
        page.wait_for_selector("text=Gespeichert")
        assert page.locator("#weekly-hours tr", has_text="Samstag").count() >= 1
        browser.close()
    with Session(api_engine) as session:
        booking = session.get(Booking, made.booking.id)
        assert booking is not None and booking.status is BookingStatus.ACKNOWLEDGED
        hours = session.exec(select(WeeklyHours).where(WeeklyHours.team_id == team(session).id)).all()
        assert len(hours) == hours_before + 1
