"""Coordinator commands through the bot: digest on demand, stats, rota overrides, team."""

from __future__ import annotations

from bot.domain.people import on_call
from bot.i18n import tr
from corridor_dev.harness import Harness


async def test_digest_on_demand_has_text_and_chart(harness: Harness) -> None:
    sita = harness.staff["sita"]
    await harness.say(sita, "/digest")
    transcript = await harness.tg.transcript(sita)
    assert any("Daily digest" in (m.get("text") or "") for m in transcript)
    assert any(m.get("media_kind") == "photo" or m.get("kind") == "photo" for m in transcript)


async def test_stats_filters_and_bad_arguments(harness: Harness) -> None:
    sita = harness.staff["sita"]
    await harness.say(sita, "/stats 7d NP-QA")
    text = await harness.last_bot_text(sita)
    assert "Last 7 days" in text and "NP-QA" in text and "NP-MY" not in text
    await harness.say(sita, "/stats ID-MY")  # not her corridor
    assert (await harness.last_bot_text(sita)).startswith("Usage: /stats")
    await harness.say(sita, "/stats yesterday")
    assert (await harness.last_bot_text(sita)).startswith("Usage: /stats")
    ramesh = harness.staff["ramesh"]
    await harness.say(ramesh, "/stats")
    assert await harness.last_bot_text(ramesh) == "This command is for coordinators."


async def test_away_and_cover_change_who_is_on_call(harness: Harness) -> None:
    sita = harness.staff["sita"]
    # The fake clock starts Monday 2026-03-02, 09:00 in Doha: Ramesh's shift.
    await harness.say(sita, "/away")  # no arguments: the usage, not a failure
    assert (await harness.last_bot_text(sita)).startswith("Usage: /away PERSON_ID")
    await harness.say(sita, "/away ramesh 2026-03-02 2026-03-03")
    assert await harness.last_bot_text(sita) == (
        "Noted: ramesh is away from Mar 2, 2026 to Mar 3, 2026."
    )
    await harness.say(sita, "/cover aisha 2026-03-02 2026-03-02")
    assert "is on call" in await harness.last_bot_text(sita)
    async with harness.app.domain.sessions() as session:
        people = await on_call(
            session, harness.app.domain, ["qa-workers-centre"], harness.clock.now()
        )
    assert [p.id for p in people] == ["aisha"]
    await harness.say(sita, "/away ramesh 2026-03-05 2026-03-01")
    assert "wrong way round" in await harness.last_bot_text(sita)
    await harness.say(
        harness.staff["dewi"], "/away ramesh 2026-03-02 2026-03-03"
    )  # not her corridor
    refusal = tr(
        "id", "You cannot change this person's rota (or the dates are the wrong way round)."
    )
    assert await harness.last_bot_text(harness.staff["dewi"]) == refusal  # in Dewi's own language
    await harness.say(sita, "/oncall")
    assert "Aisha" in await harness.last_bot_text(sita)


async def test_away_and_cover_without_arguments_show_the_usage(harness: Harness) -> None:
    # Found by the fuzz run: a bare /away raised IndexError and got the apology.
    sita = harness.staff["sita"]
    for command in ("/away", "/cover", "/away ramesh", "/cover ramesh 2026-03-02"):
        await harness.say(sita, command)
        assert (await harness.last_bot_text(sita)).startswith("Usage: /away PERSON_ID"), command


async def test_team_lists_people_of_her_corridors(harness: Harness) -> None:
    sita = harness.staff["sita"]
    await harness.say(sita, "/team")
    text = await harness.last_bot_text(sita)
    assert "ramesh" in text and "bishnu" in text and "budi" not in text


async def test_oncall_in_a_group_names_its_organisation(harness: Harness) -> None:
    group = harness.groups["qa-workers-centre"]
    await harness.say(harness.staff["ramesh"], "/oncall", chat_id=group)
    text = await harness.last_bot_text(group)
    assert "Doha Migrant Workers Centre: Ramesh" in text


async def test_export_is_sent_privately_and_anonymised(harness: Harness) -> None:
    from tests.e2e.test_safety import make_case, started_user

    for n in range(3):
        user = await started_user(harness, f"Worker {n}")
        await make_case(harness, user)
    sita = harness.staff["sita"]
    await harness.say(sita, "/export csv 2026-01-01 2026-12-31 NP-QA")
    [document] = [
        m
        for m in await harness.tg.transcript(sita)
        if m.get("media_kind") == "document" or m.get("kind") == "document"
    ]
    content = (await harness.tg.get_file_bytes(document["file_id"])).decode("utf-8-sig")
    assert content.startswith("month,corridor")
    for secret in ("MARKER", "+974", "Al Noor"):
        assert secret not in content
    await harness.say(sita, "/export 2026-05-01 2026-01-01")
    assert (await harness.last_bot_text(sita)).startswith("Usage: /export")
    await harness.say(harness.staff["ramesh"], "/export")
    assert (
        await harness.last_bot_text(harness.staff["ramesh"]) == "This command is for coordinators."
    )


async def test_report_sends_a_pdf_and_an_html_file_to_coordinators_only(harness: Harness) -> None:
    sita = harness.staff["sita"]
    await harness.say(sita, "/report 2026-01 2026-12 NP-QA public")
    documents = [
        m
        for m in await harness.tg.transcript(sita)
        if m.get("media_kind") == "document" or m.get("kind") == "document"
    ]
    assert len(documents) == 2
    pdf, page = [await harness.tg.get_file_bytes(d["file_id"]) for d in documents]
    assert pdf.startswith(b"%PDF-") and b"<!DOCTYPE html>" in page
    assert "publishes no figures" in page.decode()  # no case yet: said plainly
    await harness.say(sita, "/report 2026-12 2026-01")
    assert (await harness.last_bot_text(sita)).startswith("Usage: /report")
    await harness.say(harness.staff["ramesh"], "/report")
    assert (
        await harness.last_bot_text(harness.staff["ramesh"]) == "This command is for coordinators."
    )
