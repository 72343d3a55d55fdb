"""The sandbox in a real browser: a person plays a whole case by hand from the page, the
guided stories highlight whose turn it is and play themselves, and a phone can use it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.sandbox.session import Sandbox
from tests.browser.sandbox_browser import (  # noqa: F401 - fixtures
    desktop_page,
    phone_page,
    sandbox_browser,
    sandbox_server,
    screenshot,
)

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
    sandbox_server: tuple[Sandbox, str],  # noqa: F811
) -> None:
    page = desktop_page
    sandbox, url = sandbox_server
    await open_sandbox(page, url)
    assert "localhost only" in await page.locator(".badge").inner_text()
    for key in ("hari", "kamala", "qa-workers-centre", "ramesh", "aisha", "sita"):
        assert await column(page, key).is_visible(), key

    # Hari reports unpaid wages, in English, by tapping through the form.
    await say(page, "hari", "/start")
    await press(page, "hari", "English")
    await press(page, "hari", "Report a problem")
    for label in ("I am the worker", "Qatar", "Nepal", "Doha", "Not paid or paid less"):
        await press(page, "hari", label)
    await press(page, "hari", "Done")
    await press(page, "hari", "Months")
    await press(page, "hari", "No")
    for _ in range(4):  # workers, employer, agency, amount owed
        await press(page, "hari", "Skip")
    await say(page, "hari", "My employer has not paid me for four months.")
    before = await version(page)
    await column(page, "hari").locator("[data-send=photo]").click()
    await settled(page, before)
    assert await column(page, "hari").locator(".msg.mine img").count() == 1
    await press(page, "hari", "Done")
    await press(page, "hari", "Here in this chat")
    await press(page, "hari", "Any time")
    for _ in range(3):
        await press(page, "hari", "Yes")
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
    assert "checkin fired" in await page.locator("#events").inner_text()
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
