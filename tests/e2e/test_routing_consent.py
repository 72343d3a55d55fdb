"""The right side of the corridor, consent that can be given later, safe hours in the
reporter's own time zone: end to end through the emulator, in two languages each."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from bot import labels
from bot.domain.places import country_name
from bot.i18n import tr
from bot.taxonomy import REFERRAL_REASONS
from corridor_dev.harness import Harness, example_network
from models import Case, Consent, Reporter
from tests.e2e.test_intake_paths import (
    FAMILY_REPORT,
    SELF_REPORT,
    Scripted,
    card_orgs,
    fill,
    newcomer,
    newest_case,
    plain,
)

QA = "qa-workers-centre"
NP = "np-returnee-shelter"
NO_LONGER_VALID = "This button is no longer valid."
ALREADY_ANSWERED = (
    "This question was already answered. /consent shows what you share and changes it."
)
CLAIMED_NOTICE = (
    "✅ A responder of {org} is now working on your case {code}. "
    "You can write here; your messages reach them."
)


def script(base: list[tuple[str, Any]], **answers: Any) -> list[tuple[str, Any]]:
    return [(name, answers.get(name, action)) for name, action in base]


def one_by_one(base: list[tuple[str, Any]], **consents: str) -> list[tuple[str, Any]]:
    """``base`` with "Yes to all three" replaced by the three consents, yes unless said."""
    steps: list[tuple[str, Any]] = []
    for name, action in base:
        if name == "consent":
            steps.append(("consent", "choose"))
            for purpose in ("destination_help", "origin_help", "statistics"):
                steps.append((f"consent_{purpose}", consents.get(purpose, "yes")))
        else:
            steps.append((name, action))
    return steps


def back_home(base: list[tuple[str, Any]], worked_in: str) -> list[tuple[str, Any]]:
    """``base`` for a worker who has come home: no area abroad to give."""
    steps: list[tuple[str, Any]] = []
    for name, action in base:
        if name == "destination":
            steps += [("destination", "home"), ("worked_in", worked_in)]
        elif name != "area":
            steps.append((name, action))
    return steps


# A mother at home in Nepal; her son is still in Qatar and agreed to both sides.
MOTHER_SON_ABROAD = script(FAMILY_REPORT, consent_destination_help="yes", consent_origin_help="yes")
WORKER_BACK_HOME = back_home(SELF_REPORT, worked_in="QA")


async def reporter_of(h: Harness, case: Case) -> Reporter:
    async with h.app.domain.sessions() as session:
        reporter = await session.get(Reporter, case.reporter_id)
        assert reporter is not None
        return reporter


# -- 1. the side where the worker is decides ------------------------------------------------


@pytest.mark.parametrize("lang", ["ne", "bn"])
async def test_a_mothers_report_about_her_son_abroad_reaches_both_sides(
    harness: Harness, lang: str
) -> None:
    h = harness
    mother = await newcomer(h, "Kamala", lang)
    await fill(mother, "report", MOTHER_SON_ABROAD)
    case, consents = await newest_case(h)
    assert consents["destination_help"] and consents["origin_help"]
    # Qatar's responders can act on the employer; the shelter at home stays near the family.
    assert case.side == "destination"
    assert await card_orgs(h, case.id) == {QA, NP}


@pytest.mark.parametrize("lang", ["ne", "en"])
async def test_a_worker_back_home_goes_to_the_origin_side(harness: Harness, lang: str) -> None:
    h = harness
    worker = await newcomer(h, "Hari", lang)
    await fill(worker, "report", WORKER_BACK_HOME)
    case, _consents = await newest_case(h)
    assert case.worker_location == "origin" and case.side == "origin"
    assert await card_orgs(h, case.id) == {NP}


# -- 3. safe hours in the time zone of the person who receives the message --------------------


async def claimed_notice_arrives_at(
    h: Harness, r: Scripted, zone: str, earlier_zone: str | None = None
) -> None:
    """The claim notice waits for 18:00 in ``zone``; 18:00 in ``earlier_zone`` (whose
    evening comes first) is too early."""
    case, _consents = await newest_case(h)
    await h.claim(h.staff["ramesh"], h.groups[QA])
    notice = r.expect(CLAIMED_NOTICE, org="Doha Migrant Workers Centre", code=case.code)
    assert notice not in await r.bot_texts()
    if earlier_zone is not None:
        await h.advance_to_local(earlier_zone, 18, 1)
        assert notice not in await r.bot_texts()
    await h.advance_to_local(zone, 17, 59)
    assert notice not in await r.bot_texts()
    await h.advance(minutes=2)
    assert notice in await r.bot_texts()


@pytest.mark.parametrize("lang", ["ne", "bn"])
async def test_a_mother_at_home_keeps_her_own_evening(harness: Harness, lang: str) -> None:
    h = harness
    mother = await newcomer(h, "Kamala", lang)
    await fill(mother, "report", MOTHER_SON_ABROAD)
    case, _consents = await newest_case(h)
    reporter = await reporter_of(h, case)
    assert (reporter.timezone, reporter.safe_hours_start, reporter.safe_hours_end) == (
        "Asia/Kathmandu",
        18,
        22,
    )
    # At 18:01 in Kathmandu she hears it, not at 18:00 in Qatar (2 h 45 min later).
    await claimed_notice_arrives_at(h, mother, "Asia/Kathmandu")


@pytest.mark.parametrize("lang", ["ne", "en"])
async def test_a_worker_abroad_keeps_the_evening_where_he_is(harness: Harness, lang: str) -> None:
    h = harness
    worker = await newcomer(h, "Hari", lang)
    await fill(worker, "report", script(SELF_REPORT, chat_hours="18-22"))
    case, _consents = await newest_case(h)
    assert (await reporter_of(h, case)).timezone == "Asia/Qatar"
    await claimed_notice_arrives_at(h, worker, "Asia/Qatar", earlier_zone="Asia/Kathmandu")


# -- 2. a consent refused can be asked for again; /consent gives as well as withdraws --------

NO_ORIGIN = one_by_one(SELF_REPORT, origin_help="no")


async def refer_to_shelter(h: Harness, code: str) -> None:
    ramesh = h.staff["ramesh"]
    await h.say(ramesh, f"/refer {code}")
    await h.tap(ramesh, "Kathmandu Returnee Shelter")
    await h.say(ramesh, "Flies home on Friday; please meet him at the airport.")


def question_text(lang: str, code: str) -> str:
    receiver = tr(lang, "a shelter in {country}", country=country_name("NP", lang))
    return (
        tr(
            lang,
            "Your helper wants to pass case {code} to {receiver}.",
            code=code,
            receiver=receiver,
        )
        + "\n"
        + tr(lang, REFERRAL_REASONS["origin"])
        + "\n\n"
        + tr(lang, "May we share your report with them?")
    )


async def shown_to(h: Harness, code: str) -> set[str]:
    """Organisations whose group has been shown the case (claimed or not)."""
    return {
        org
        for org, chat in h.groups.items()
        if any(code in (m.get("text") or "") for m in await h.tg.transcript(chat))
    }


async def consent_rows(h: Harness, case_id: int) -> list[tuple[str, bool, bool]]:
    async with h.app.domain.sessions() as session:
        rows = await session.scalars(
            select(Consent).where(Consent.case_id == case_id).order_by(Consent.id)
        )
        return [(r.purpose, r.granted, r.withdrawn_at is not None) for r in rows]


@pytest.mark.parametrize("lang", ["ne", "bn"])
async def test_a_refused_consent_is_asked_again_and_the_referral_waits_for_yes(
    harness: Harness, lang: str
) -> None:
    h = harness
    worker = await newcomer(h, "Hari", lang)
    await fill(worker, "report", NO_ORIGIN)
    case, consents = await newest_case(h)
    assert consents["origin_help"] is False
    await h.claim(h.staff["ramesh"], h.groups[QA])
    await refer_to_shelter(h, case.code)
    ramesh_texts = await h.bot_texts(h.staff["ramesh"])
    assert ramesh_texts[-1] == tr(
        "en",
        "The reporter has not agreed to share with that side yet; I asked them. You will hear back.",
    )
    # The reporter is asked in their language: who would receive it, and why.
    question = await worker.last()
    assert question["text"] == question_text(lang, case.code)
    assert "Kathmandu" not in question["text"]
    assert await shown_to(h, case.code) == {QA}  # nothing shared before the answer

    # Bad input: the same answer forged from another account changes nothing.
    stranger = await h.user("Stranger", lang)
    await h.say(stranger, "/start")
    query = await h.tg.press_button(
        stranger, stranger, 1, data=f"cns:{case.id}:origin_help:1", strict=False
    )
    answer = await h.tg.get_callback_answer(query, timeout=20)
    await h.settle()
    assert answer["text"] == tr(lang, NO_LONGER_VALID)
    assert await shown_to(h, case.code) == {QA}

    # Yes: the referral goes through and the owner is told.
    await h.press_data(worker.uid, lambda data: data == f"cns:{case.id}:origin_help:1")
    assert await worker.bot_texts()
    assert await card_orgs(h, case.id) >= {NP}
    assert (await h.bot_texts(h.staff["ramesh"]))[-1] == tr(
        "en",
        "Referral of case {code} to {org}: {result}",
        code=case.code,
        org="Kathmandu Returnee Shelter",
        result="done, the reporter agreed",
    )
    # Bad input: the same button pressed again (its keyboard is gone) is a polite no-op.
    rows = await consent_rows(h, case.id)
    again = await h.tg.press_button(
        worker.uid,
        worker.uid,
        question["message_id"],
        data=f"cns:{case.id}:origin_help:1",
        strict=False,
    )
    assert (await h.tg.get_callback_answer(again, timeout=20))["text"] == tr(lang, ALREADY_ANSWERED)
    await h.settle()
    assert await consent_rows(h, case.id) == rows


@pytest.mark.parametrize("lang", ["ne", "en"])
async def test_the_owner_is_told_when_the_reporter_says_no(harness: Harness, lang: str) -> None:
    h = harness
    worker = await newcomer(h, "Hari", lang)
    await fill(worker, "report", NO_ORIGIN)
    case, _consents = await newest_case(h)
    await h.claim(h.staff["ramesh"], h.groups[QA])
    await refer_to_shelter(h, case.code)
    # Asked once at a time.
    await refer_to_shelter(h, case.code)
    assert (await h.bot_texts(h.staff["ramesh"]))[-1] == tr(
        "en",
        "The reporter has already been asked about sharing with that side and has not answered yet.",
    )
    await h.press_data(worker.uid, lambda data: data == f"cns:{case.id}:origin_help:0")
    assert (await h.bot_texts(h.staff["ramesh"]))[-1] == tr(
        "en",
        "Referral of case {code} to {org}: {result}",
        code=case.code,
        org="Kathmandu Returnee Shelter",
        result="refused: the reporter said no",
    )
    assert await shown_to(h, case.code) == {QA}
    async with h.app.domain.sessions() as session:
        assert (await session.get(Case, case.id)).status == "claimed"


@pytest.mark.parametrize("lang", ["ne", "bn"])
async def test_consent_command_gives_and_withdraws_each_purpose(
    harness: Harness, lang: str
) -> None:
    h = harness
    mother = await newcomer(h, "Kamala", lang)
    # She first kept the home side out; her son is abroad, so Qatar's responders act.
    await fill(mother, "report", script(MOTHER_SON_ABROAD, consent_origin_help="no"))
    case, _consents = await newest_case(h)
    assert await card_orgs(h, case.id) == {QA}

    await h.say(mother.uid, "/consent")
    overview = await mother.last()
    labels = [b["text"] for row in overview["reply_markup"]["inline_keyboard"] for b in row]
    agree_origin = tr(
        lang,
        "Agree: {what} ({code})",
        what=tr(lang, "Helpers in your home country"),
        code=case.code,
    )
    assert agree_origin in labels
    await h.tap(mother.uid, agree_origin)
    assert (await mother.bot_texts())[-1] == tr(
        lang, "Thank you. Case {code} is now shared for this purpose.", code=case.code
    )
    # Still waiting for an owner: the shelter near her now sees the case too.
    assert await card_orgs(h, case.id) == {QA, NP}
    # Bad input: the same Agree button again (an old message) changes nothing.
    rows = await consent_rows(h, case.id)
    again = await h.tg.press_button(
        mother.uid,
        mother.uid,
        overview["message_id"],
        data=f"cgv:{case.id}:origin_help",
        strict=False,
    )
    assert (await h.tg.get_callback_answer(again, timeout=20))["text"] == tr(
        lang, "Already agreed. /consent shows what you share."
    )
    await h.settle()
    assert await consent_rows(h, case.id) == rows
    assert rows[-1] == ("origin_help", True, False)  # versioned: a new row, not an edit

    # Withdraw it again from a fresh /consent, then press an old withdraw button.
    await h.say(mother.uid, "/consent")
    listing = await mother.last()
    withdraw = tr(
        lang,
        "Withdraw: {what} ({code})",
        what=tr(lang, "Helpers in your home country"),
        code=case.code,
    )
    await h.tap(mother.uid, withdraw)
    assert (await consent_rows(h, case.id))[-1] == ("origin_help", True, True)
    old = await h.tg.press_button(
        mother.uid,
        mother.uid,
        listing["message_id"],
        data=f"cwd:{case.id}:origin_help",
        strict=False,
    )
    assert (await h.tg.get_callback_answer(old, timeout=20))["text"] == tr(
        lang, "Already withdrawn. /consent shows what you share."
    )
    await h.settle()


@pytest.mark.parametrize("lang", ["ne", "en"])
async def test_an_old_consent_question_after_withdrawal_changes_nothing(
    harness: Harness, lang: str
) -> None:
    h = harness
    worker = await newcomer(h, "Hari", lang)
    await fill(worker, "report", NO_ORIGIN)
    case, _consents = await newest_case(h)
    await h.claim(h.staff["ramesh"], h.groups[QA])
    await refer_to_shelter(h, case.code)
    question = await worker.last()
    await h.press_data(worker.uid, lambda data: data == f"cns:{case.id}:origin_help:1")
    await h.claim(h.staff["bishnu"], h.groups[NP])
    # He withdraws the home side; the shelter lets go of the case.
    await h.say(worker.uid, "/consent")
    await h.tap(
        worker.uid,
        tr(
            lang,
            "Withdraw: {what} ({code})",
            what=tr(lang, "Helpers in your home country"),
            code=case.code,
        ),
    )
    rows = await consent_rows(h, case.id)
    assert rows[-1] == ("origin_help", True, True)
    # The Yes of the old question, pressed later, does not give it back.
    old = await h.tg.press_button(
        worker.uid,
        worker.uid,
        question["message_id"],
        data=f"cns:{case.id}:origin_help:1",
        strict=False,
    )
    assert (await h.tg.get_callback_answer(old, timeout=20))["text"] == tr(lang, ALREADY_ANSWERED)
    await h.settle()
    assert await consent_rows(h, case.id) == rows


async def harness_speaking(database_url: str, **languages: str) -> Harness:
    """The example network with some staff speaking another language."""
    network = example_network()
    for person in network["people"]:
        person["language"] = languages.get(person["id"], person["language"])
    return await Harness.start(database_url, network=network)


# -- 6. figures that are true -----------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ne"])
async def test_time_to_claim_counts_the_first_claim_and_referrals_their_own(
    database_url: str, lang: str
) -> None:
    h = await harness_speaking(database_url, sita=lang)
    try:
        worker = await h.user("Hari", "en")
        await h.say(worker, "/sos")
        await h.press_data(worker, lambda data: data == "sos:QA")
        code = (await h.case_codes())[-1]
        await h.advance(minutes=10)
        await h.claim(h.staff["ramesh"], h.groups[QA])
        await refer_to_shelter(h, code)
        await h.advance(hours=2)
        await h.claim(h.staff["bishnu"], h.groups[NP])
        told = tr(
            "en",
            "Case {code} you referred was claimed by {org}.",
            code=code,
            org="Kathmandu Returnee Shelter",
        )
        # The person who referred is told; the rest of the organisation is not.
        assert told in await h.bot_texts(h.staff["ramesh"])
        assert told not in await h.bot_texts(h.staff["aisha"])

        await h.say(h.staff["sita"], "/digest")
        digest = next(
            t
            for t in reversed(await h.bot_texts(h.staff["sita"]))
            if tr(lang, "Claimed: {n}", n=1) in t
        )
        lines = digest.splitlines()
        assert tr(lang, "Claimed: {n}", n=1) in lines
        # 10 minutes from the report to the first claim; the referral's own 2 hours apart.
        assert (
            tr(
                lang,
                "Median time to claim: {duration}",
                duration=labels.duration(dt.timedelta(minutes=10), lang),
            )
            in lines
        )
        assert (
            tr(
                lang,
                "Referrals claimed: {n} (median {duration} after the referral)",
                n=1,
                duration=labels.duration(dt.timedelta(hours=2), lang),
            )
            in lines
        )
    finally:
        await h.stop()


# -- 5. the owner is told once that the reporter cannot be reached ---------------------------


@pytest.mark.parametrize("lang", ["en", "ne"])
async def test_the_owner_is_told_at_once_that_the_reporter_blocked_the_bot(
    database_url: str, lang: str
) -> None:
    h = await harness_speaking(database_url, ramesh=lang)
    try:
        mother = await newcomer(h, "Kamala", "ne")
        await fill(mother, "report", script(MOTHER_SON_ABROAD, safe_hours="any"))
        case, _consents = await newest_case(h)
        ramesh = h.staff["ramesh"]
        await h.claim(ramesh, h.groups[QA])
        await h.tg.block_bot(mother.uid)
        await h.settle()
        notice = plain(
            tr(
                lang,
                "⚠️ The reporter of case <b>{code}</b> cannot be reached through the bot any more "
                "(they blocked it or deleted the chat). Messages to them are not delivered.",
                code=case.code,
            )
        )
        routes = tr(
            lang,
            "Other ways they gave: {method} {phone}",
            method=tr(lang, "Through my family"),
            phone="+9779841234567",
        )
        # Telegram tells the bot at once; the owner hears it with the other ways she gave.
        assert (await h.bot_texts(ramesh))[-1] == notice + "\n" + routes
        # A reply is not sent, and says why.
        await h.say(ramesh, f"/reply {case.code} Did he get his passport back?")
        assert (await h.bot_texts(ramesh))[-1] == tr(
            lang, "Not sent."
        ) + " " + notice + "\n" + routes
        # Told once: a failed message to her later does not tell him again.
        async with h.app.domain.sessions() as session, session.begin():
            from bot.domain.outbox import queue

            queue(session, h.app.domain, purpose="test", reporter_id=case.reporter_id, text="?")
        await h.settle()
        assert [t for t in await h.bot_texts(ramesh) if t.startswith(notice)] == [
            notice + "\n" + routes
        ]
        # The phone number is for the owner only.
        for chat in h.groups.values():
            assert not any("984" in t for t in await h.bot_texts(chat))
        # She unblocks the bot and writes: replies reach her again.
        await h.tg.unblock_bot(mother.uid)
        await h.say(mother.uid, "I am back")
        await h.say(ramesh, f"/reply {case.code} Good to hear from you.")
        assert (await h.bot_texts(ramesh))[-1] == tr(
            lang, "Sent to the reporter of {code}.", code=case.code
        )
        assert any("Good to hear from you." in t for t in await mother.bot_texts())
    finally:
        await h.stop()
