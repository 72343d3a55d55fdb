"""The dashboard in a real browser (headless Chromium, phone-sized), against the running
bot: the board of a seeded corridor, a case, a chart, the export, an action that edits
the group's card. Screenshots are saved for people to look at."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from corridor_dev.harness import Harness
from models import CaseEvent
from tests.dashboard import Dashboard
from tests.e2e.test_safety import make_case, started_user


async def open_page(page: Any, dash: Dashboard, user_id: int) -> list[str]:
    """Opens the dashboard as ``user_id``; returns the list every requested URL lands in."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    await page.goto(dash.page_url(user_id))
    await page.wait_for_selector("body[data-ready='1']")
    return requested


async def test_board_case_chart_export_and_an_action(
    dash_harness: Harness, dash: Dashboard, phone: Any, screenshot: Any
) -> None:
    reporter = await started_user(dash_harness, "Worker")
    waiting = await make_case(dash_harness, reporter)
    urgent = await make_case(dash_harness, reporter, categories=["PHYS"])
    await make_case(dash_harness, reporter, wage_owed_minor=250000, wage_currency="QAR")
    await dash_harness.claim(dash_harness.staff["ramesh"], dash_harness.groups["qa-workers-centre"])
    dash_harness.clock.advance(hours=2)
    sita = dash_harness.staff["sita"]

    requested = await open_page(phone, dash, sita)
    unclaimed = phone.get_by_test_id("unclaimed")
    await unclaimed.get_by_text(waiting.code).wait_for()
    assert await unclaimed.locator("[data-case]").first.get_attribute("data-case") == urgent.code
    assert "Unclaimed cases · 2" in await unclaimed.inner_text()
    await screenshot(phone, "board")

    await unclaimed.locator(f"[data-case='{waiting.code}']").click()
    case_box = phone.get_by_test_id("case")
    await case_box.get_by_text(waiting.code).wait_for()
    timeline = await phone.get_by_test_id("timeline").inner_text()
    # In words, never the stored codes.
    assert "Reported" in timeline and "created" not in timeline and "routed" not in timeline
    assert "MARKER" not in await phone.content()
    # Nobody owns the case: as in the bot, its personal details are nobody's to read,
    # the coordinator's included, and the page says so instead of offering the tap.
    details = phone.get_by_test_id("details")
    assert "only to the responder who owns the case" in await details.inner_text()
    assert await phone.get_by_text("Show personal details").count() == 0
    await screenshot(phone, "case-not-owner")

    # Sita takes the case herself: now its owner, a second tap shows the details.
    await phone.get_by_test_id("reassign-to").select_option("sita")
    await phone.locator("[data-action='reassign']").click()
    await phone.get_by_test_id("owner").get_by_text("Sita").wait_for()
    await phone.get_by_text("Show personal details").click()
    await phone.locator("[data-action='confirm-details']").click()
    await details.get_by_text("MARKER-NAME-7731").wait_for()
    await screenshot(phone, "case-details")

    # Give the waiting case to Aisha: the group's card is edited to show her.
    await phone.get_by_test_id("reassign-to").select_option("aisha")
    await phone.locator("[data-action='reassign']").click()
    await phone.get_by_test_id("owner").get_by_text("Aisha").wait_for()
    await dash_harness.settle()
    cards = [
        m.get("text") or ""
        for m in await dash_harness.tg.transcript(dash_harness.groups["qa-workers-centre"])
        if waiting.code in (m.get("text") or "")
    ]
    assert any("Owner: Aisha" in card for card in cards)
    async with dash_harness.app.domain.sessions() as session:
        kinds = list(
            await session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == waiting.id))
        )
    assert {"timeline_read", "details_read", "reassigned"} <= set(kinds)

    await phone.locator("nav button[data-tab='trends']").click()
    daily = phone.get_by_test_id("chart-daily")
    await daily.locator("polyline").first.wait_for()
    totals = await daily.locator("polyline").evaluate_all(
        "lines => lines.map(l => Number(l.dataset.total))"
    )
    assert totals == [3, 0]
    assert await phone.get_by_test_id("chart-categories").locator("rect").count() == 2
    await screenshot(phone, "trends-light")
    await phone.emulate_media(color_scheme="dark")
    background = await phone.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background != "rgb(255, 255, 255)"
    await screenshot(phone, "trends-dark")

    await phone.locator("nav button[data-tab='export']").click()
    await phone.locator("main select[name='corridor']").select_option("NP-QA")
    async with phone.expect_download() as waiting_download:
        await phone.locator("[data-action='download']").click()
    download = await waiting_download.value
    assert download.suggested_filename.startswith("corridor-NP-QA-")
    saved = Path(await download.path())
    body = (await asyncio.to_thread(saved.read_bytes)).decode("utf-8-sig")
    assert body.startswith("month,corridor,") and "MARKER" not in body

    # Nothing came from anywhere but the bot's own server.
    origin = urlsplit(dash.base_url).netloc
    outside = [url for url in requested if urlsplit(url).netloc not in (origin, "")]
    assert outside == []


async def test_a_responder_sees_only_a_refusal(
    dash_harness: Harness, dash: Dashboard, phone: Any, screenshot: Any
) -> None:
    await open_page(phone, dash, dash_harness.staff["ramesh"])
    text = await phone.get_by_test_id("error").inner_text()
    assert "for coordinators" in text
    assert await phone.locator("nav button").count() == 0
    await screenshot(phone, "refused")


async def test_board_labels_in_the_coordinators_language(
    dash_harness: Harness, dash: Dashboard, phone: Any, screenshot: Any
) -> None:
    from bot.i18n import tr

    await open_page(phone, dash, dash_harness.staff["dewi"])
    assert await phone.locator("nav button[data-tab='board']").inner_text() == tr("id", "Board")
    assert await phone.evaluate("document.documentElement.lang") == "id"
    await phone.locator("nav button[data-tab='trends']").click()
    await phone.get_by_test_id("chart-daily").wait_for()
    # A quiet corridor says so in words instead of drawing empty axes.
    assert await phone.get_by_test_id("chart-daily").locator("svg").count() == 0
    await screenshot(phone, "quiet-corridor-id")
