"""The web chat in headless Chromium: Arabic, right to left, keyboard, reload, a screenshot."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bot.conftest import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.db]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
QUESTION_AR = "كيف أسجل عنواني في موير؟"

if not CHROMIUM.exists():
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI=true but /usr/bin/chromium is missing: run `make browser` as root")
    pytest.skip("/usr/bin/chromium is missing (as root: apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    yield opened
    context.close()
    assert not errors, errors


def test_arabic_conversation_right_to_left_with_keyboard_and_reload(page: Page, web_server: LiveServer) -> None:
    page.goto(web_server.url + "/chat/moers")
    log = page.locator("#log")
    expect(log).to_have_attribute("aria-live", "polite")

    arabic = log.get_by_role("button", name="العربية")
    expect(arabic).to_be_visible()
    arabic.click()
    expect(page).to_have_url(re.compile(r"[?&]lang=ar"))  # the page follows the chosen language
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("header nav button").first).to_have_text("القائمة")
    expect(log.locator("li.msg.bot h2").filter(has_text="Moers")).to_be_visible()
    expect(log.get_by_role("button", name="العربية")).to_have_count(1)  # history re-rendered, not resent

    page.locator("#message").fill(QUESTION_AR)
    page.locator("#message").press("Enter")
    answer = log.locator("li.msg.bot", has=page.locator(".contact")).last
    expect(answer).to_be_visible()
    expect(answer).to_have_attribute("dir", "rtl")
    expect(answer).to_have_attribute("lang", "ar")
    expect(answer.locator(".contact")).to_contain_text("Bürgerservice der Stadt Moers")
    expect(answer.locator("h2")).to_have_text("تسجيل العنوان")
    assert answer.evaluate("e => getComputedStyle(e).direction") == "rtl"
    user = log.locator("li.msg.user").last
    assert user.evaluate("e => getComputedStyle(e).direction") == "rtl", "typed Arabic shows right to left"

    # Keyboard: every control is a real <button>, reachable and usable without a mouse.
    assert page.locator("#log [onclick], #log [role=button]:not(button), #log div[tabindex]").count() == 0
    assert page.locator("#log .buttons > :not(button)").count() == 0
    helpful = answer.get_by_role("button", name="👍 هذا ساعدني")
    count_before = log.locator("li.msg.bot").count()
    for _ in range(60):  # Tab from the composer until the focus reaches the button
        if helpful.evaluate("e => e === document.activeElement"):
            break
        page.keyboard.press("Tab")
    assert helpful.evaluate("e => e === document.activeElement"), "button not reachable with Tab"
    page.keyboard.press("Enter")
    expect(log.locator("li.msg.bot")).to_have_count(count_before + 1)

    page.locator("#message").fill('<img src=x onerror="window.__xss=1"><b>bold</b>')
    page.locator("#message").press("Enter")
    expect(log.locator("li.msg.user").last).to_have_text('<img src=x onerror="window.__xss=1"><b>bold</b>')
    expect(log.locator("li.msg.bot")).not_to_have_count(count_before + 1)  # answered
    assert log.locator("img, b").count() == 0
    assert page.evaluate("window.__xss") is None

    ARTIFACTS.mkdir(exist_ok=True)
    answer.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "webchat-ar.png"))

    shown = log.locator("li.msg").count()
    page.reload()
    expect(log.locator("li.msg")).to_have_count(shown)
    expect(log.locator("li.msg.bot[dir=rtl] .contact").last).to_contain_text("Bürgerservice der Stadt Moers")
    bot_messages = log.locator("li.msg.bot").count()
    page.locator("#message").fill("كيف أحصل على تصريح إقامة؟")  # the conversation goes on in Arabic
    page.locator("#message").press("Enter")
    expect(log.locator("li.msg.bot")).not_to_have_count(bot_messages)
    newest = log.locator("li.msg.bot").last
    expect(newest).to_have_attribute("lang", "ar")
    expect(newest).to_have_attribute("dir", "rtl")


def test_a_preset_arabic_page_is_right_to_left_throughout(page: Page, web_server: LiveServer) -> None:
    page.goto(web_server.url + "/chat/moers?lang=ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("#log li.msg.bot h2").first).to_contain_text("Moers")
    assert not page.locator("#log").get_by_role("button", name="العربية").is_visible()
    page.screenshot(path=str(ARTIFACTS / "webchat-ar-preset.png"))
