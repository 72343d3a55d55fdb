"""The dashboard's API through real HTTP against the running bot: who may call what, how
signed init data is checked, and what each action changes (cards edited via the outbox,
events in the audit trail)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot import labels
from bot.webapp.auth import sign_init_data
from corridor_dev.harness import Harness
from models import Case, CaseEvent, OutboxMessage
from tests.dashboard import Dashboard
from tests.e2e.test_safety import make_case, started_user


async def events_of(dash_harness: Harness, kind: str) -> list[CaseEvent]:
    async with dash_harness.app.domain.sessions() as session:
        return list(
            await session.scalars(
                select(CaseEvent).where(CaseEvent.kind == kind).order_by(CaseEvent.id)
            )
        )


def endpoints(code: str) -> list[tuple[str, str, dict | None]]:
    return [
        ("GET", "api/me", None),
        ("GET", "api/board", None),
        ("GET", f"api/cases/{code}", None),
        ("POST", f"api/cases/{code}/details", {}),
        ("POST", f"api/cases/{code}/nudge", {"organisation": "qa-workers-centre"}),
        ("POST", f"api/cases/{code}/release", {}),
        ("POST", f"api/cases/{code}/reassign", {"person": "aisha"}),
        ("GET", "api/oncall", None),
        ("POST", "api/rota", {"person": "ramesh", "from": "2026-03-10", "to": "2026-03-11"}),
        ("GET", "api/trends?days=30", None),
        ("GET", "api/export?format=csv", None),
    ]


async def test_every_endpoint_refuses_everyone_but_the_corridors_coordinator(
    dash_harness: Harness, dash: Dashboard
) -> None:
    reporter = await started_user(dash_harness, "Worker")
    case = await make_case(dash_harness, reporter)  # NP-QA: Sita's corridor, not Dewi's
    stranger = await dash_harness.user("Stranger")
    refused = {
        "stranger": stranger,
        "reporter": reporter,
        "responder": dash_harness.staff["ramesh"],
        "responder of another corridor": dash_harness.staff["budi"],
    }
    for method, path, body in endpoints(case.code):
        for who, user_id in refused.items():
            status, data = await dash.call(method, path, user_id=user_id, body=body)
            assert (status, data) == (403, "forbidden"), (who, method, path)
        status, _ = await dash.call(method, path, body=body)  # no init data at all
        assert status == 403, (method, path)
        status, _ = await dash.call(method, path, user_id=dash_harness.staff["sita"], body=body)
        if path.endswith("/details"):
            # The corridor's coordinator, but not the case's owner (see below).
            assert status == 403, (method, path, status)
        else:
            assert status in (200, 409), (method, path, status)
    # A coordinator of another corridor sees her own board, never this case.
    dewi = dash_harness.staff["dewi"]
    assert (await dash.get("api/board", dewi))[0] == 200
    for method, path, body in endpoints(case.code):
        if "cases/" in path:
            assert (await dash.call(method, path, user_id=dewi, body=body))[0] == 403, path
    assert (await dash.get("api/board?corridor=NP-QA", dewi))[0] == 403
    assert (await dash.get("api/trends?days=30&corridor=NP-QA", dewi))[0] == 403
    assert (await dash.get("api/export?corridor=NP-QA", dewi))[0] == 403
    # Sita's rota override for a person outside her corridors is refused by the domain.
    status, data = await dash.post(
        "api/rota",
        dash_harness.staff["sita"],
        {"person": "budi", "from": "2026-03-10", "to": "2026-03-11"},
    )
    assert status == 409 and data["ok"] is False


async def test_forged_stale_replayed_and_future_init_data_are_refused(
    dash_harness: Harness, dash: Dashboard
) -> None:
    sita = dash_harness.staff["sita"]
    now = dash_harness.clock.now()
    assert (await dash.get("api/me", sita))[0] == 200
    forged = sign_init_data("7000000001:AAHsomeoneELSEsomeoneELSEsome12345", sita, now)
    assert (await dash.call("GET", "api/me", init_data=forged))[0] == 403
    # Signed for Ramesh, then the user swapped for Sita's: the signature no longer matches.
    tampered = dash.init_data(dash_harness.staff["ramesh"]).replace(
        str(dash_harness.staff["ramesh"]), str(sita)
    )
    assert (await dash.call("GET", "api/me", init_data=tampered))[0] == 403
    assert (await dash.call("GET", "api/me", init_data="garbage&hash=00"))[0] == 403
    stale = dash.init_data(sita, signed_at=now - dt.timedelta(seconds=3601))
    assert (await dash.call("GET", "api/me", init_data=stale))[0] == 403
    future = dash.init_data(sita, signed_at=now + dt.timedelta(minutes=5))
    assert (await dash.call("GET", "api/me", init_data=future))[0] == 403
    # A captured request works while fresh; replayed after the limit, it fails.
    captured = dash.init_data(sita)
    assert (await dash.call("GET", "api/board", init_data=captured))[0] == 200
    dash_harness.clock.advance(seconds=3601)
    assert (await dash.call("GET", "api/board", init_data=captured))[0] == 403
    status, _ = await dash.call(
        "POST",
        "api/rota",
        init_data=captured,
        body={"person": "ramesh", "from": "2026-03-10", "to": "2026-03-10"},
    )
    assert status == 403
    assert await events_of(dash_harness, "rota_override") == []


async def test_board_shows_unclaimed_by_urgency_and_status(
    dash_harness: Harness, dash: Dashboard
) -> None:
    reporter = await started_user(dash_harness, "Worker")
    first = await make_case(dash_harness, reporter)
    second = await make_case(dash_harness, reporter, categories=["PHYS"])
    assert second.urgency != first.urgency
    third = await make_case(dash_harness, reporter)
    await dash_harness.claim(
        dash_harness.staff["ramesh"], dash_harness.groups["qa-workers-centre"]
    )  # the newest card: third
    dash_harness.clock.advance(hours=3)
    status, board = await dash.get("api/board", dash_harness.staff["sita"])
    assert status == 200
    assert board["unclaimed"]["total"] == 2
    assert board["unclaimed"]["counts"] == {
        first.urgency: {"older": 0} | {"lt24h": 1},
        second.urgency: {"lt24h": 1},
    } or board["unclaimed"]["counts"] == {first.urgency: {"lt24h": 1}, second.urgency: {"lt24h": 1}}
    # The more urgent case is listed first.
    assert board["unclaimed"]["cases"][0]["code"] == second.code
    assert board["by_status"]["claimed"] == 1 and board["by_status"]["routed"] == 2
    listed = [c["code"] for c in board["unclaimed"]["cases"]]
    assert first.code in listed and third.code not in listed
    three_hours = labels.duration(dt.timedelta(hours=3), "en")
    assert all(c["age"] == three_hours for c in board["unclaimed"]["cases"])
    # Dewi's corridor has none of these.
    _, other = await dash.get("api/board", dash_harness.staff["dewi"])
    assert other["unclaimed"]["total"] == 0 and other["corridors"] == ["ID-MY"]


async def test_case_view_is_an_audited_read_without_personal_details(
    dash_harness: Harness, dash: Dashboard
) -> None:
    reporter = await started_user(dash_harness, "Worker")
    case = await make_case(dash_harness, reporter)
    sita = dash_harness.staff["sita"]
    status, view = await dash.get(f"api/cases/{case.code}", sita)
    assert status == 200 and view["code"] == case.code
    assert "MARKER" not in str(view)  # the card's fields, never a personal detail
    assert [e["kind"] for e in view["timeline"]][:2] == ["created", "routed"]
    assert [e.actor for e in await events_of(dash_harness, "timeline_read")] == ["person:sita"]
    assert await events_of(dash_harness, "details_read") == []
    status, _ = await dash.get("api/cases/NOPE-1234", sita)
    assert status == 403


async def add_admin(dash_harness: Harness, user_id: int) -> None:
    from models import Person

    async with dash_harness.app.domain.sessions() as session, session.begin():
        session.add(Person(id="ana", name="Ana", telegram_user_id=user_id, role="admin"))


async def test_personal_details_only_for_the_cases_owner_as_in_the_bot(
    dash_harness: Harness, dash: Dashboard
) -> None:
    """The bot sends a case's personal details to its owner and nobody else; the page's
    second tap answers exactly the same people (access.decide, Action.READ_DETAILS),
    and each read is the same audit event as the bot's message."""
    h = dash_harness
    reporter = await started_user(h, "Worker")
    case = await make_case(h, reporter)
    sita, ramesh, dewi = h.staff["sita"], h.staff["ramesh"], h.staff["dewi"]
    admin = 5000099
    await add_admin(h, admin)
    stranger = await h.user("Stranger")
    details = f"api/cases/{case.code}/details"

    async def read(user_id: int) -> tuple[int, object]:
        return await dash.call("POST", details, user_id=user_id, body={})

    # Nobody owns the case yet: nobody reads the details, not even the corridor's coordinator
    # or an admin, who both see the case itself.
    for who in (sita, admin):
        status, view = await dash.get(f"api/cases/{case.code}", who)
        assert status == 200 and view["may_read_details"] is False
    for who in (sita, admin, dewi, ramesh, reporter, stranger):
        assert await read(who) == (403, "forbidden"), who
    assert await events_of(h, "details_read") == []

    # Ramesh claims it: the bot sends him the details (its one audited read so far). He is
    # a responder: the dashboard is not his, so the page refuses him all the same.
    await h.claim(ramesh, h.groups["qa-workers-centre"])
    assert any("MARKER-NAME-7731" in t for t in await h.bot_texts(ramesh))
    assert [e.actor for e in await events_of(h, "details_read")] == ["person:ramesh"]
    for who in (sita, admin, dewi, ramesh, reporter, stranger):
        assert await read(who) == (403, "forbidden"), who
    assert not any("MARKER" in t for t in await h.bot_texts(sita))

    # Sita gives the case to herself: now the owner, she gets the details in the bot, and
    # the page's second tap shows them too, recorded the same way.
    status, _ = await dash.post(f"api/cases/{case.code}/reassign", sita, {"person": "sita"})
    assert status == 200
    assert any("MARKER-NAME-7731" in t for t in await h.bot_texts(sita))
    status, view = await dash.get(f"api/cases/{case.code}", sita)
    assert view["may_read_details"] is True and "MARKER" not in str(view)
    status, shown = await read(sita)
    assert status == 200
    assert "MARKER-NAME-7731" in shown["text"] and "MARKER-STORY-9953" in shown["description"]
    reads = await events_of(h, "details_read")
    assert [e.actor for e in reads] == ["person:ramesh", "person:sita", "person:sita"]
    assert {e.case_id for e in reads} == {case.id}
    # Ramesh lost the case, the admin never had it: still refused.
    for who in (admin, dewi, ramesh):
        assert await read(who) == (403, "forbidden"), who
    assert len(await events_of(h, "details_read")) == 3


async def test_nudge_pings_the_organisation_and_is_recorded(
    dash_harness: Harness, dash: Dashboard
) -> None:
    reporter = await started_user(dash_harness, "Worker")
    case = await make_case(dash_harness, reporter)
    sita, ramesh = dash_harness.staff["sita"], dash_harness.staff["ramesh"]
    status, data = await dash.post(
        f"api/cases/{case.code}/nudge", sita, {"organisation": "qa-workers-centre"}
    )
    assert (status, data) == (200, {"ok": True})
    assert "A coordinator asks you to look at case" in await dash_harness.last_bot_text(ramesh)
    [event] = await events_of(dash_harness, "nudged")
    assert event.actor == "person:sita" and event.data["organisation"] == "qa-workers-centre"
    # An organisation without this case's card, an unknown one, a claimed case: refused.
    status, data = await dash.post(
        f"api/cases/{case.code}/nudge", sita, {"organisation": "my-legal-aid"}
    )
    assert status == 409 and "no card" in data["reason"]
    status, _ = await dash.post(f"api/cases/{case.code}/nudge", sita, {"organisation": "x"})
    assert status == 409
    await dash_harness.claim(ramesh, dash_harness.groups["qa-workers-centre"])
    status, data = await dash.post(
        f"api/cases/{case.code}/nudge", sita, {"organisation": "qa-workers-centre"}
    )
    assert status == 409 and "not open" in data["reason"]


async def card_texts(dash_harness: Harness, chat_id: int) -> list[str]:
    return [
        m.get("text") or "" for m in await dash_harness.tg.transcript(chat_id) if m.get("from_bot")
    ]


async def test_release_and_reassign_edit_the_groups_card(
    dash_harness: Harness, dash: Dashboard
) -> None:
    reporter = await started_user(dash_harness, "Worker")
    case = await make_case(dash_harness, reporter)
    sita, ramesh, aisha = (
        dash_harness.staff["sita"],
        dash_harness.staff["ramesh"],
        dash_harness.staff["aisha"],
    )
    group = dash_harness.groups["qa-workers-centre"]
    status, data = await dash.post(f"api/cases/{case.code}/release", sita)
    assert status == 409 and data["reason"] == "nobody owns this case"
    await dash_harness.claim(ramesh, group)
    assert "Owner: Ramesh" in (await card_texts(dash_harness, group))[-1]
    status, _ = await dash.post(f"api/cases/{case.code}/release", sita)
    assert status == 200
    card = (await card_texts(dash_harness, group))[-1]
    assert "Owner:" not in card and "waiting for a helper" in card
    [released] = await events_of(dash_harness, "released")
    assert released.actor == "person:sita" and released.data["previous_owner"] == "ramesh"
    status, _ = await dash.post(f"api/cases/{case.code}/reassign", sita, {"person": "aisha"})
    assert status == 200
    assert "Owner: Aisha" in (await card_texts(dash_harness, group))[-1]
    assert any("full details" in t for t in await dash_harness.bot_texts(aisha))
    [moved] = await events_of(dash_harness, "reassigned")
    assert moved.actor == "person:sita" and moved.data["to"] == "aisha"
    async with dash_harness.app.domain.sessions() as session:
        stored = await session.get(Case, case.id)
        assert (stored.status, stored.owner_person_id) == ("claimed", "aisha")
    # Budi works another corridor: not someone Sita can give cases to.
    status, _ = await dash.post(f"api/cases/{case.code}/reassign", sita, {"person": "budi"})
    assert status == 409
    status, data = await dash.post(f"api/cases/{case.code}/reassign", sita, {"person": "aisha"})
    assert status == 409 and data["reason"] == "nothing to change"
    # Nothing was sent to Telegram from the request itself: every message is an outbox row.
    async with dash_harness.app.domain.sessions() as session:
        purposes = set(await session.scalars(select(OutboxMessage.purpose)))
    assert "card_edit" in purposes


async def test_rota_override_changes_who_is_on_call(dash_harness: Harness, dash: Dashboard) -> None:
    sita = dash_harness.staff["sita"]
    status, teams = await dash.get("api/oncall", sita)
    doha = next(t for t in teams if t["id"] == "qa-workers-centre")
    assert doha["now"] == ["Ramesh"]  # Monday 09:00 in Doha
    today = dash_harness.clock.now().date().isoformat()
    status, _ = await dash.post(
        "api/rota", sita, {"person": "ramesh", "from": today, "to": today, "on_call": False}
    )
    assert status == 200
    status, teams = await dash.get("api/oncall", sita)
    doha = next(t for t in teams if t["id"] == "qa-workers-centre")
    assert doha["now"] == [] and doha["overrides"][0]["person"] == "ramesh"
    [event] = await events_of(dash_harness, "rota_override")
    assert event.actor == "person:sita"
    for bad in (
        {"person": "ramesh", "from": "soon", "to": today},
        {"person": "ramesh", "from": today, "to": "2020-01-01"},
    ):
        status, data = await dash.post("api/rota", sita, bad)
        assert status == 400 and data["reason"] == "the dates are not valid"
    status, data = await dash.post(
        "api/rota", sita, {"person": "nobody", "from": today, "to": today}
    )
    assert status == 409


async def test_trends_and_export(dash_harness: Harness, dash: Dashboard) -> None:
    reporter = await started_user(dash_harness, "Worker")
    await make_case(dash_harness, reporter, wage_owed_minor=150000, wage_currency="QAR")
    await make_case(dash_harness, reporter, categories=["DOCS", "WAGE"])
    dash_harness.clock.advance(minutes=5)
    sita = dash_harness.staff["sita"]
    status, data = await dash.get("api/trends?days=30", sita)
    assert status == 200
    assert len(data["new_per_day"]) == 30 and data["new_per_day"][-1] == 2
    assert data["categories"] == {"WAGE": 2, "DOCS": 1}
    assert data["wages_owed"][0]["currency"] == "QAR"
    for bad in ("7", "x", ""):
        assert (await dash.get(f"api/trends?days={bad}", sita))[0] == 400
    status, body = await dash.get("api/export?format=csv&corridor=NP-QA", sita)
    assert status == 200 and body.lstrip("\ufeff").startswith("month,corridor,")
    assert "MARKER" not in body
    [event] = await events_of(dash_harness, "export")
    assert event.actor == "person:sita" and event.data["corridors"] == ["NP-QA"]
    # The same record as /export and `corridor export` make (exports.record_export).
    assert set(event.data) == {"format", "audience", "corridors", "from", "to", "cases"}
    assert event.data["audience"] == "partner" and event.data["cases"] == 2
    assert (await dash.get("api/export?format=xml", sita))[0] == 400
    status, bad = await dash.call("POST", "api/rota", user_id=sita, body=None)
    assert status == 400


async def test_labels_come_in_the_coordinators_language(
    dash_harness: Harness, dash: Dashboard
) -> None:
    from bot.i18n import tr

    status, me = await dash.get("api/me", dash_harness.staff["dewi"])
    assert status == 200 and me["language"] == "id"
    assert me["labels"]["tab_board"] == tr("id", "Board") != "Board"
    assert me["labels"]["category"]["WAGE"] == tr("id", "Not paid or paid less")


async def test_board_lists_overdue_referrals_and_undelivered_cards(
    dash_harness: Harness, dash: Dashboard
) -> None:
    from bot.domain import referral
    from models import Organisation, Person

    h = dash_harness
    reporter = await started_user(h, "Worker")
    overdue = await make_case(h, reporter)
    await h.claim(h.staff["ramesh"], h.groups["qa-workers-centre"])
    referred = await make_case(h, reporter)
    await h.claim(h.staff["ramesh"], h.groups["qa-workers-centre"])
    async with h.app.domain.sessions() as session, session.begin():
        case = await session.get(Case, referred.id)
        ramesh = await session.get(Person, "ramesh")
        shelter = await session.get(Organisation, "np-returnee-shelter")
        assert await referral.refer(session, h.app.domain, case, ramesh, shelter, "x") == "referred"
    await h.settle()
    # Telegram refuses the next card for the Doha group for good: nobody there sees it.
    await h.tg.fail_next(
        "sendMessage",
        error_code=400,
        description="Bad Request: chat not found",
        chat_id=h.groups["qa-workers-centre"],
    )
    lost = await make_case(h, reporter)
    # Three days pass without the clock loop: the check-in of the claimed case is overdue.
    h.clock.advance(hours=80)
    status, board = await dash.get("api/board", h.staff["sita"])
    assert status == 200
    assert [c["code"] for c in board["overdue"]["cases"]] == [overdue.code]
    assert board["referrals"]["total"] == 1
    [waiting] = board["referrals"]["cases"]
    assert (waiting["code"], waiting["detail"]) == (referred.code, "qa-workers-centre")
    undelivered = {(c["code"], c["detail"]) for c in board["undelivered"]["cases"]}
    assert (lost.code, "qa-workers-centre") in undelivered
