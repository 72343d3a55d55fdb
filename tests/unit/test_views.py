"""The keyboards of bot.views pack the same callback data, row for row, as the buttons that
handlers used to build by hand: buttons already sent to chats must keep working."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup

from bot.domain.saved_replies import SavedReply
from bot.views import cases, coordinator, menu, safety, saved, sos
from bot.views.buttons import Nav, Unfinished
from models import Case, Organisation


def layout(markup: InlineKeyboardMarkup | None) -> list[list[str]]:
    assert markup is not None
    return [[button.callback_data for button in row] for row in markup.inline_keyboard]


CASE = Case(id=7, code="QA-7", status="claimed", urgency="high")


def test_menu_and_languages() -> None:
    assert layout(menu.menu_keyboard("en")) == [
        ["menu:sos"],
        ["menu:report"],
        ["menu:missing"],
        ["menu:status", "menu:help"],
        ["menu:language"],
    ]
    keyboard = menu.language_keyboard(["en", "ne"], current="ne")
    assert layout(keyboard) == [["lang:en"], ["lang:ne"]]
    assert keyboard.inline_keyboard[1][0].text.startswith("✓ ")


def test_unfinished_report_keeps_its_raw_strings() -> None:
    assert layout(menu.unfinished_report_keyboard()) == [["nav:resume", "nav:restart"]]
    # Two parts, not Nav's three: neither class reads the other's buttons.
    assert Unfinished.unpack("nav:resume").action == "resume"
    for data, other in (("nav:resume", Nav), ("nav:back:role", Unfinished)):
        try:
            other.unpack(data)
        except (TypeError, ValueError):
            continue
        raise AssertionError(f"{other.__name__} read {data}")


def test_responder_choices() -> None:
    assert layout(cases.pass_reasons_keyboard(7)) == [
        ["passr:7:busy"],
        ["passr:7:language"],
        ["passr:7:scope"],
        ["passr:7:conflict"],
    ]
    outcomes = layout(cases.outcomes_keyboard(CASE))
    assert outcomes[0] == ["out:7:WAGES_RECOVERED"]
    assert all(len(row) == 1 and row[0].startswith("out:7:") for row in outcomes)
    orgs = [
        Organisation(id="qa-centre", name="Centre", country="QA"),
        Organisation(id="np-desk", name="Desk", country="NP"),
    ]
    assert layout(cases.referral_keyboard(CASE, orgs, "en")) == [
        ["ref:7:qa-centre"],
        ["ref:7:np-desk"],
    ]


def test_reporter_cases() -> None:
    resolved = Case(id=8, code="QA-8", status="resolved")
    text, keyboard = cases.status_text([CASE, resolved])
    assert "QA-8" in text
    assert layout(keyboard) == [["wd:7:0"]]
    assert cases.status_text([resolved])[1] is None
    assert layout(cases.withdraw_confirm_keyboard(CASE)) == [["wd:7:1"]]
    assert layout(cases.pick_case_keyboard([CASE, resolved])) == [["pick:7"], ["pick:8"]]


def test_safety() -> None:
    assert layout(safety.clear_keyboard()) == [["clr:1"]]
    assert layout(safety.forget_keyboard()) == [["fgt:1"]]
    text, keyboard = safety.consent_overview(
        [(CASE, {"destination_help": True, "origin_help": False})]
    )
    assert [line[-1] for line in text.splitlines()[1:]] == ["✓", "✗", "✗"]
    assert layout(keyboard) == [
        ["cwd:7:destination_help"],
        ["cgv:7:origin_help"],
        ["cgv:7:statistics"],
    ]
    assert safety.consent_overview([])[1] is None


def test_saved_replies_sos_and_invites() -> None:
    assert layout(saved.cases_keyboard([CASE])) == [["svc:7"]]
    reply = SavedReply(code="own", fields=(), titles={"en": "Own"}, texts={"en": "Hi"})
    assert layout(saved.replies_keyboard(CASE, [reply], "en")) == [["svp:7:own"]]
    assert layout(saved.preview_keyboard(CASE)) == [["svs:7:1", "svs:7:0"]]
    assert layout(sos.countries_keyboard(["QA", "MY"])) == [["sos:QA"], ["sos:MY"]]
    location = sos.share_location_keyboard()
    assert location.keyboard[0][0].request_location
    assert location.resize_keyboard and location.one_time_keyboard
    orgs = [Organisation(id="qa-centre", name="Centre")]
    assert layout(coordinator.invite_keyboard(orgs)) == [["inv:qa-centre"]]
