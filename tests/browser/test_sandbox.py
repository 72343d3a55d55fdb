"""The sandbox in a real browser: a person plays a whole case by hand from the page, the
guided stories highlight whose turn it is and play themselves, and a phone can use it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.i18n import tr
from corridor_dev.sandbox.session import Sandbox
from tests.browser.sandbox_browser import *  # noqa: F403 - the browser and sandbox fixtures
from tests.browser.sandbox_browser import screenshot

pytestmark = pytest.mark.asyncio(loop_scope="session")


def column(page: Any, key: str) -> Any:
    return page.locator(f'[data-chat="{key}"]')


async def settled(page: Any, before: int) -> None:
    """Until the page shows a state newer than ``before`` (the server answers an action only
    after the bot has handled it and delivered every reply)."""
    await page.wait_for_function(f"Number(document.body.dataset.version) > {before}")


async def version(page: Any) -> int:
    return int(await page.evaluate("Number(document.body.dataset.version || 0)"))


async def press(page: Any, chat: str, label: str) -> None:
    before = await version(page)
    await column(page, chat).locator(".keyboard button", has_text=label).last.click()
    await settled(page, before)


async def say(page: Any, chat: str, text: str) -> None:
    before = await version(page)
    composer = column(page, chat).locator(".composer")
    await composer.locator("input[name=text]").fill(text)
    await composer.locator("button[type=submit]").click()
    await settled(page, before)


async def bot_says(page: Any, chat: str, text: str) -> None:
    await column(page, chat).locator(".msg", has_text=text).last.wait_for()


async def open_sandbox(page: Any, url: str) -> None:
    await page.goto(url)
    await column(page, "hari").wait_for()
    await page.wait_for_function("Number(document.body.dataset.version) > 0")


async def test_a_case_from_report_to_resolution_by_hand(
    desktop_page: Any,
    sandbox_server: tuple[Sandbox, str],
) -> None:
    page = desktop_page
    sandbox, url = sandbox_server
    await open_sandbox(page, url)
    assert "localhost only" in await page.locator(".badge").inner_text()
    for key in ("hari", "kamala", "qa-workers-centre", "ramesh", "aisha", "sita"):
        assert await column(page, key).is_visible(), key

    # Hari reports unpaid wages, in English, by tapping through the form.
    await say(page, "hari", "/start")
    await press(page, "hari", "🌐")  # his phone is in Nepali
    await press(page, "hari", "English")
    await press(page, "hari", "Report a problem")
    for label in ("I am the worker", "Qatar", "Not paid or paid less", "Done", "No"):
        await press(page, "hari", label)
    await press(page, "hari", "Here in this chat")
    await press(page, "hari", "Yes to all three")
    # The details are optional, behind one button on the summary.
    await press(page, "hari", "Add details")
    await press(page, "hari", "Doha")
    await press(page, "hari", "Months")
    for _ in range(4):  # workers, employer, agency, amount owed
        await press(page, "hari", "Skip")
    await say(page, "hari", "My employer has not paid me for four months.")
    before = await version(page)
    await column(page, "hari").locator("[data-send=photo]").click()
    await settled(page, before)
    assert await column(page, "hari").locator(".msg.mine img").count() == 1
    await press(page, "hari", "Done")
    for _ in range(3):  # safe hours, sector, gender
        await press(page, "hari", "Skip")
    await press(page, "hari", "Send report")
    await bot_says(page, "hari", "Your case code is")
    code = re.search(r"QA-[A-Z0-9]+", await column(page, "hari").locator(".msg").last.inner_text())
    assert code, "no case code shown to Hari"
    code = code.group(0)
    await screenshot(page, "1-reported")

    # The card shows in the Qatar group without Hari's words; Aisha claims it there.
    group = column(page, "qa-workers-centre")
    card = group.locator(".msg", has_text=code)
    await card.wait_for()
    assert "four months" not in await group.inner_text()
    await group.locator("select[name=as]").select_option(label="as Aisha")
    await press(page, "qa-workers-centre", "Claim")
    await bot_says(page, "qa-workers-centre", "Aisha")
    await bot_says(page, "aisha", "four months")  # full details, privately, to the owner
    assert "four months" not in await column(page, "ramesh").inner_text()
    await screenshot(page, "2-claimed")

    # The clock moves a day at a time until the check-in reaches Hari; the page logs it.
    for _ in range(3):
        before = await version(page)
        await page.locator("[data-clock='1d']").click()
        await settled(page, before)
    await bot_says(page, "hari", "I am safe")
    assert "Check-in due" in await page.locator("#events").inner_text()
    assert "05 Mar" in await page.locator("#now").inner_text()
    await press(page, "hari", "I am safe")
    await screenshot(page, "3-checked-in")

    # Aisha resolves the case from her private chat.
    await say(page, "aisha", f"/resolve {code}")
    await press(page, "aisha", "Wages recovered")
    await say(page, "aisha", "1200 QAR")
    await say(page, "aisha", "Employer paid after a letter from the ministry.")
    await bot_says(page, "aisha", f"Case {code} resolved")
    await screenshot(page, "4-resolved")
    async with sandbox.harness().app.domain.sessions() as session:
        from sqlalchemy import select

        from models import Case

        case = await session.scalar(select(Case).where(Case.code == code))
    assert case is not None and case.status == "resolved" and case.outcome == "WAGES_RECOVERED"


async def guide_progress(page: Any) -> str:
    return await page.locator("#progress").inner_text()


async def test_a_guided_story_shows_whose_turn_it_is_and_what_to_press(
    desktop_page: Any, sandbox_server: tuple[Sandbox, str]
) -> None:
    page = desktop_page
    sandbox, url = sandbox_server
    await open_sandbox(page, url)
    before = await version(page)
    await page.locator("[data-story=worker-report]").click()
    await settled(page, before)
    assert "step 1 of" in await guide_progress(page)
    assert "Hari" in await page.locator("#hint").inner_text()
    assert "/start" in await page.locator("#hint").inner_text()

    # The guide does the first step; the next one highlights the button in Hari's chat.
    before = await version(page)
    await page.locator("#do-step").click()
    await settled(page, before)
    await page.wait_for_function(
        "document.querySelector('#progress').textContent.includes('step 2 of')"
    )
    hari = column(page, "hari")
    assert "turn" in (await hari.get_attribute("class") or "")
    highlighted = hari.locator(".keyboard button.press-me")
    assert await highlighted.count() == 1
    report = tr("ne", "📝 Report a problem")  # Hari's phone is in Nepali: so is the menu
    assert report in await highlighted.inner_text()
    box = await highlighted.bounding_box()  # in view, not scrolled off to a side
    assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= 1600, box
    assert report in await page.locator("#hint").inner_text()
    await screenshot(page, "5-guided-step")

    # The person presses it by hand and tells the guide; the story moves on.
    await highlighted.click()
    before = await version(page)
    await page.locator("#next-step").click()
    await settled(page, before)
    # The press's own redraw may be the one just seen: wait for the guide's.
    await page.wait_for_function(
        "document.querySelector('#progress').textContent.includes('step 3 of')"
    )
    assert await hari.locator(".keyboard button.press-me").count() == 1

    # A story already begun cannot start again in the same world: the page says why.
    await page.locator("[data-story=worker-report]").click()
    await page.locator("[data-story=family-report]").click()
    await page.locator("[data-story=worker-report]").click()
    await page.locator("#toast", has_text="press Reset").wait_for()

    # Reset: a fresh world, empty chats, no story chosen.
    page.on("dialog", lambda dialog: dialog.accept())
    await page.locator("#reset").click()
    await page.wait_for_function(
        "document.querySelector('#step').hidden && !document.querySelector('[data-chat=hari] .msg')"
    )
    assert sandbox.guide.key is None
    assert await sandbox.harness().case_codes() == []


async def test_a_story_plays_itself_on_a_phone(
    phone_page: Any, sandbox_server: tuple[Sandbox, str]
) -> None:
    page = phone_page
    _, url = sandbox_server
    await open_sandbox(page, url)
    # On a phone one chat fills the width; the others are a swipe away.
    first = await column(page, "hari").bounding_box()
    assert first is not None and first["width"] > 300
    await page.locator("[data-story=sos-escalation]").click()
    await page.locator("#play").click()
    await page.wait_for_function(
        "document.querySelector('#progress').textContent.includes('finished')", timeout=120_000
    )
    events = await page.locator("#events").inner_text()
    assert "Escalation step due" in events
    assert "Claimed · Budi" in events
    await page.locator("[data-toggle=id-migrant-union]").check()
    union = column(page, "id-migrant-union")
    await union.scroll_into_view_if_needed()
    await union.locator(".msg", has_text="Budi").last.wait_for()
    await screenshot(page, "6-phone-sos")


async def test_the_page_speaks_the_language_chosen_for_it(
    desktop_page: Any, sandbox_server: tuple[Sandbox, str]
) -> None:
    page = desktop_page
    _, url = sandbox_server
    await open_sandbox(page, url)
    assert await page.locator("#reset").inner_text() == "Reset"
    before = await version(page)
    await page.locator("#page-language").select_option("ar")
    await settled(page, before)
    await page.wait_for_function("document.documentElement.dir === 'rtl'")
    assert (await page.locator("#reset").inner_text()).strip("\u200f") == tr("ar", "Reset").strip(
        "\u200f"
    )
    send = column(page, "hari").locator("button[type=submit]")
    assert (await send.inner_text()).strip("\u200f") == tr("ar", "Send").strip("\u200f")
    assert await column(page, "hari").locator("input[name=text]").get_attribute(
        "placeholder"
    ) == tr("ar", "Message")
    assert (
        tr("ar", "A worker's report").strip("\u200f") in await page.locator("#stories").inner_text()
    )
    assert "Sandbox started" not in await page.locator("#events").inner_text()
    await screenshot(page, "7-arabic-page")
