"""Many responders tapping Claim on the same card at the same moment: exactly one wins."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.domain import cases
from corridor_dev.harness import Harness, example_network
from models import Case, CaseEvent
from tests.support import wage_report

RESPONDERS = 12
CASES = 5


async def test_concurrent_claims_through_the_bot(database_url: str) -> None:
    network = example_network()
    for n in range(RESPONDERS):
        network["people"].append(
            {
                "id": f"r{n}",
                "name": f"Responder {n}",
                "telegram_user_id": 6100000 + n,
                "role": "responder",
                "organisation": "qa-workers-centre",
            }
        )
    h = await Harness.start(database_url, network=network)
    try:
        domain = h.app.domain
        async with domain.sessions() as session, session.begin():
            for n in range(CASES):
                reporter = await cases.reporter_for(session, domain, 8000000 + n, 8000000 + n, "en")
                await cases.submit_report(
                    session,
                    domain,
                    reporter,
                    wage_report(language="en", consents={"destination_help": True}),
                )
        await h.settle()
        group = h.groups["qa-workers-centre"]
        cards = [
            m
            for m in await h.tg.transcript(group)
            if (m.get("reply_markup") or {}).get("inline_keyboard")
        ]
        assert len(cards) == CASES

        async def press(responder: int, card: dict) -> str:
            data = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            query = await h.tg.press_button(
                6100000 + responder, group, card["message_id"], data=data, strict=False
            )
            return (await h.tg.get_callback_answer(query, timeout=30))["text"] or ""

        answers = await asyncio.gather(
            *(press(r, card) for card in cards for r in range(RESPONDERS))
        )
        await h.settle()
        winners = [a for a in answers if a.startswith("You own case")]
        losers = [a for a in answers if a.startswith("Already claimed by")]
        assert len(winners) == CASES
        assert len(losers) == CASES * (RESPONDERS - 1)
        async with domain.sessions() as session:
            claimed = await session.scalar(
                select(func.count()).select_from(Case).where(Case.status == "claimed")
            )
            claim_events = await session.scalar(
                select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "claimed")
            )
        assert claimed == CASES and claim_events == CASES
        # Every card now names its owner and has no Claim button left.
        for message in await h.tg.transcript(group):
            assert "Owner:" in message["text"] and not (message.get("reply_markup") or {}).get(
                "inline_keyboard"
            )
    finally:
        await h.stop()
