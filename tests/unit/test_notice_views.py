"""The view layer renders every notice the domain queues: text and buttons in the reader's
language, callback data that the handlers' filters parse, byte for byte what buttons
already sitting in chats carry."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from typing import Any

import pytest

from bot import labels
from bot.domain.notices import (
    BackupPing,
    Card,
    CardUndeliverableAlert,
    CardWithdrawn,
    CaseClaimed,
    CaseDetails,
    CasePassedOn,
    CaseReassignedAway,
    CaseWithdrawn,
    ConsentRequest,
    ConsentWithdrawn,
    DashboardLink,
    Digest,
    DigestChart,
    DraftReminder,
    DrillReport,
    DrillReporterReply,
    FeedbackRequest,
    NewCasePing,
    NudgePing,
    OwnerLostAlert,
    QuietCase,
    ReferralSettled,
    ReferredCaseClaimed,
    RenderedNotice,
    ReporterChanged,
    ReporterErased,
    ReporterMediaTag,
    ReporterMessageHeading,
    ReporterNotSafe,
    ReporterNotSafeAlert,
    ReporterSilent,
    ReporterSilentAlert,
    ReportersWords,
    ReporterUnreachable,
    ResponderMessageHeading,
    SafetyCheck,
    UnclaimedAlert,
    UnroutedAlert,
    UntranslatedMessage,
    WorkerJoined,
)
from bot.i18n import N_, ntr, tr
from bot.taxonomy import CONTACT_LABELS, REFERRAL_REASONS
from bot.views.buttons import Claim, ConsentAnswer, Feedback, Pass, Snooze
from bot.views.notices import NoticeViews
from models import Attachment, Case, Organisation
from tests.support import install_test_keys

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
LANGUAGES = ("en", "ne")


def make_case(**changes: Any) -> Case:
    values: dict[str, Any] = {
        "id": 5,
        "code": "QA-7K2M",
        "corridor_code": "NP-QA",
        "categories": ["WAGE"],
        "urgency": "high",
        "status": "routed",
        "side": "destination",
        "language": "ne",
        "destination_country": "QA",
        "origin_country": "NP",
        "area": None,
        "worker_location": "destination",
        "workers_affected": 3,
        "outcome": None,
        "created_at": NOW - dt.timedelta(hours=2),
    }
    values.update(changes)
    return Case(**values)


def shelter() -> Organisation:
    return Organisation(
        id="np-shelter",
        name="Kathmandu Returnee Shelter",
        side="origin",
        kind="shelter",
        country="NP",
    )


def buttons(rendered: RenderedNotice) -> list[list[tuple[str, str]]]:
    assert rendered.reply_markup is not None
    return [
        [(b["text"], b.get("callback_data") or b["web_app"]["url"]) for b in row]
        for row in rendered.reply_markup["inline_keyboard"]
    ]


def translated(language: str, msgid: str, **values: Any) -> str:
    """The catalogue's text; outside English it must differ from the English one (a
    renderer that forgot the reader's language would show English)."""
    text = tr(language, msgid, **values)
    if language != "en":
        assert text != tr("en", msgid, **values), f"{msgid!r} is not translated to {language}"
    return text


def render(notice: Any, language: str) -> RenderedNotice:
    return NoticeViews().render(notice, language)


def test_callback_data_is_byte_identical_to_what_cards_and_reminders_already_carry() -> None:
    # Buttons on messages sent before this code existed must still match their handlers.
    assert Claim(case_id=5).pack() == "claim:5"
    assert Pass(case_id=5).pack() == "pass:5"
    assert Snooze(case_id=5, hours=24).pack() == "snz:5:24"
    assert Snooze(case_id=5, hours=72).pack() == "snz:5:72"
    assert Feedback(case_id=5, score=4).pack() == "fb:5:4"
    assert (
        ConsentAnswer(case_id=5, purpose="origin_help", granted=1).pack() == "cns:5:origin_help:1"
    )
    assert (
        ConsentAnswer(case_id=5, purpose="origin_help", granted=0).pack() == "cns:5:origin_help:0"
    )
    case = make_case()
    assert [d for row in buttons(render(Card(case, NOW), "en")) for _, d in row] == [
        "claim:5",
        "pass:5",
    ]
    assert [d for row in buttons(render(SafetyCheck(case), "en")) for _, d in row] == [
        "chk:5:safe",
        "chk:5:unsafe",
        "chk:5:changed",
    ]
    assert [d for row in buttons(render(QuietCase(case), "en")) for _, d in row] == [
        "snz:5:24",
        "snz:5:72",
    ]
    consent = render(ConsentRequest(case, "origin_help", shelter()), "en")
    assert [d for row in buttons(consent) for _, d in row] == [
        "cns:5:origin_help:1",
        "cns:5:origin_help:0",
    ]
    feedback = render(FeedbackRequest(make_case(status="resolved", outcome="OTHER")), "en")
    assert [d for row in buttons(feedback) for _, d in row] == [f"fb:5:{n}" for n in range(1, 6)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_waiting_case_card_has_the_facts_and_claim_and_pass(language: str) -> None:
    case = make_case()
    rendered = render(Card(case, NOW, note=N_("Escalated: unclaimed on the other side.")), language)
    assert rendered.parse_mode == "HTML"
    lines = rendered.text.split("\n") if rendered.text else []
    assert "<b>QA-7K2M</b>" in lines[0] and labels.urgency("high", language) in lines[0]
    assert translated(language, "Corridor: {corridor}", corridor="NP-QA") in lines[1]
    assert translated(language, "Workers affected: {n}", n=3) in rendered.text
    assert translated(language, "Escalated: unclaimed on the other side.") in lines[-1]
    assert buttons(rendered) == [
        [(translated(language, "✋ Claim"), "claim:5"), (translated(language, "Pass"), "pass:5")]
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_claimed_case_card_names_its_owner_and_has_no_buttons(language: str) -> None:
    case = make_case(status="claimed")
    rendered = render(Card(case, NOW, owner_name="Ramesh", owner_org="Doha Centre"), language)
    assert rendered.reply_markup is None
    assert (
        translated(language, "Owner: {name} ({org})", name="Ramesh", org="Doha Centre")
        in rendered.text
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_card_the_reporter_withdrew_keeps_only_the_code(language: str) -> None:
    rendered = render(CardWithdrawn(make_case(status="claimed")), language)
    assert rendered.text == translated(
        language, "Case {code}: withdrawn by the reporter.", code="QA-7K2M"
    )
    assert rendered.reply_markup is None


def test_a_card_escapes_what_could_break_its_html() -> None:
    case = make_case(area="<Al Rayyan>")
    rendered = render(Card(case, NOW, owner_name="A & B", owner_org="<x>"), "en")
    assert "&lt;Al Rayyan&gt;" in rendered.text and "A &amp; B (&lt;x&gt;)" in rendered.text
    assert "<Al Rayyan>" not in rendered.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_safety_check_asks_and_offers_three_answers(language: str) -> None:
    rendered = render(SafetyCheck(make_case()), language)
    assert rendered.text == translated(
        language,
        "Checking in about your case {code}. Are you safe? Has anything changed?",
        code="QA-7K2M",
    )
    assert rendered.parse_mode is None
    assert buttons(rendered) == [
        [
            (translated(language, "🙂 I am safe"), "chk:5:safe"),
            (translated(language, "⚠️ Not safe"), "chk:5:unsafe"),
        ],
        [(translated(language, "Something changed"), "chk:5:changed")],
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_quiet_case_reminder_offers_to_snooze(language: str) -> None:
    rendered = render(QuietCase(make_case(status="claimed")), language)
    assert rendered.text == translated(
        language,
        "⏰ Case {code} has been quiet for a while. Any news? /case {code} · /resolve {code}",
        code="QA-7K2M",
    )
    assert buttons(rendered) == [
        [
            (translated(language, "Snooze 1 day"), "snz:5:24"),
            (translated(language, "Snooze 3 days"), "snz:5:72"),
        ]
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_consent_request_says_who_and_why_and_asks(language: str) -> None:
    rendered = render(ConsentRequest(make_case(), "origin_help", shelter()), language)
    text = rendered.text or ""
    receiver = translated(
        language, "a shelter in {country}", country=labels.country("NP", language)
    )
    assert text.startswith(
        translated(
            language,
            "Your helper wants to pass case {code} to {receiver}.",
            code="QA-7K2M",
            receiver=receiver,
        )
    )
    assert translated(language, REFERRAL_REASONS["origin"]) in text
    assert text.endswith(translated(language, "May we share your report with them?"))
    assert buttons(rendered) == [
        [
            (translated(language, "Yes"), "cns:5:origin_help:1"),
            (translated(language, "No"), "cns:5:origin_help:0"),
        ]
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_feedback_request_names_the_outcome_and_offers_five_scores(language: str) -> None:
    case = make_case(status="resolved", outcome="WAGES_RECOVERED")
    rendered = render(FeedbackRequest(case), language)
    assert rendered.text == translated(
        language,
        "Your case {code} is now resolved: {outcome}.\nHow did we do? 1 = bad, 5 = very good.",
        code="QA-7K2M",
        outcome=translated(language, "Wages recovered"),
    )
    assert buttons(rendered) == [[(str(n), f"fb:5:{n}") for n in range(1, 6)]]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_dashboard_link_is_a_web_app_button(language: str) -> None:
    rendered = render(DashboardLink("https://corridor.example/app"), language)
    assert rendered.text is None
    assert rendered.reply_markup == {
        "inline_keyboard": [
            [
                {
                    "text": translated(language, "📋 Open the dashboard"),
                    "web_app": {"url": "https://corridor.example/app"},
                }
            ]
        ]
    }


PINGS = [
    (NewCasePing, "🔔 New case {code} ({corridor}, {urgency}) is waiting in your group."),
    (
        BackupPing,
        "⏰ Case {code} ({corridor}, {urgency}) is still unclaimed. You are backup: please look at your group.",
    ),
    (
        NudgePing,
        "👉 A coordinator asks you to look at case {code} ({corridor}, {urgency}): it is still waiting in your group.",
    ),
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("ping", "msgid"), PINGS)
def test_a_ping_names_the_case_its_corridor_and_urgency(
    ping: type, msgid: str, language: str
) -> None:
    rendered = render(ping(make_case()), language)
    assert rendered.text == translated(
        language,
        msgid,
        code="QA-7K2M",
        corridor="NP-QA",
        urgency=labels.urgency("high", language),
    )
    assert rendered.parse_mode is None and rendered.reply_markup is None


ALERTS = [
    (
        UnroutedAlert,
        "⚠️ Case <b>{code}</b> ({corridor}) matched no responder group. Please find it an owner: /case {code}",
    ),
    (
        UnclaimedAlert,
        "🚨 Case <b>{code}</b> ({corridor}) is still unclaimed after every escalation step. /case {code}",
    ),
    (OwnerLostAlert, "⚠️ Case <b>{code}</b> ({corridor}) lost its owner and is back in the queue."),
    (
        ReporterNotSafeAlert,
        "🚨 The reporter of case <b>{code}</b> ({corridor}) says they are not safe.",
    ),
    (
        ReporterSilentAlert,
        "🚨 The reporter of SOS case <b>{code}</b> ({corridor}) has gone silent.",
    ),
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("alert", "msgid"), ALERTS)
def test_a_coordinator_alert_names_the_case_in_html(alert: type, msgid: str, language: str) -> None:
    rendered = render(alert(make_case()), language)
    assert rendered.text == translated(language, msgid, code="QA-7K2M", corridor="NP-QA")
    assert rendered.parse_mode == "HTML" and rendered.reply_markup is None


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_undeliverable_card_alert_says_why_and_where_the_case_went(language: str) -> None:
    alert = CardUndeliverableAlert(
        make_case(),
        organisation="Doha <Centre>",
        chat_id=-100,
        reason="no_rights",
        taken_by=("A & B", "C"),
        still_shown=False,
    )
    rendered = render(alert, language)
    first = translated(
        language,
        "⚠️ The card of case <b>{code}</b> ({corridor}) cannot reach the group of {org} "
        "(chat {chat}): {reason}. That group is switched off until a coordinator links it again with /linkgroup.",
        code="QA-7K2M",
        corridor="NP-QA",
        org="Doha &lt;Centre&gt;",
        chat=-100,
        reason=translated(language, "the bot is not allowed to post there"),
    )
    posted = translated(language, "The case was posted instead to: {orgs}.", orgs="A &amp; B, C")
    assert rendered.text == f"{first}\n{posted}"
    assert rendered.parse_mode == "HTML"
    nowhere = render(
        CardUndeliverableAlert(make_case(), None, -100, "gone away", (), still_shown=False),
        language,
    )
    assert (nowhere.text or "").endswith(
        translated(
            language,
            "No other group can take it. Please find it an owner: /case {code}",
            code="QA-7K2M",
        )
    )
    assert "?" in (nowhere.text or "") and "gone away" in (nowhere.text or "")
    shown = render(CardUndeliverableAlert(make_case(), "X", -100, "removed", (), True), language)
    assert "\n" not in (shown.text or "")


OWNER_NOTICES = [
    (ReporterNotSafe, "🚨 The reporter of case {code} says they are NOT safe. Please act now."),
    (
        ReporterChanged,
        "ℹ️ The reporter of case {code} says something has changed. Their next messages will reach you.",
    ),
    (
        ReporterSilent,
        "🚨 The reporter of SOS case {code} has not answered since the last check-in. Please try to reach them.",
    ),
    (CaseWithdrawn, "The reporter withdrew case {code}. It is closed."),
    (
        ReporterErased,
        "The reporter of case {code} asked for their data to be erased. The case is closed; please delete any notes you keep outside Corridor.",
    ),
    (
        ConsentWithdrawn,
        "The reporter of case {code} withdrew consent for your side of the corridor. Please stop working on it; the case has been taken from you.",
    ),
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("notice", "msgid"), OWNER_NOTICES)
def test_the_owner_is_told_what_the_reporter_did(notice: type, msgid: str, language: str) -> None:
    rendered = render(notice(make_case(status="claimed")), language)
    assert rendered.text == translated(language, msgid, code="QA-7K2M")
    assert rendered.parse_mode is None and rendered.reply_markup is None


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_owner_of_an_unreachable_reporter_gets_the_other_ways_to_reach_them(
    language: str,
) -> None:
    case = make_case(status="claimed", contact_method="phone", contact_phone="+974 <33>")
    rendered = render(ReporterUnreachable(case), language)
    assert rendered.parse_mode == "HTML"
    first, second = (rendered.text or "").split("\n")
    assert first == translated(
        language,
        "⚠️ The reporter of case <b>{code}</b> cannot be reached through the bot any more "
        "(they blocked it or deleted the chat). Messages to them are not delivered.",
        code="QA-7K2M",
    )
    assert second == translated(
        language,
        "Other ways they gave: {method} {phone}",
        method=tr(language, CONTACT_LABELS["phone"]),
        phone="+974 &lt;33&gt;",
    )
    chat_only = render(ReporterUnreachable(make_case(contact_method="chat")), language)
    assert (chat_only.text or "").endswith(
        translated(language, "They gave no other way to reach them.")
    )


ABOUT_AN_ORGANISATION = [
    (
        CaseClaimed,
        "✅ A responder of {org} is now working on your case {code}. You can write here; your messages reach them.",
    ),
    (ReferredCaseClaimed, "Case {code} you referred was claimed by {org}."),
    (CasePassedOn, "Your case {code} has been passed to {org}, who can help you further."),
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("notice", "msgid"), ABOUT_AN_ORGANISATION)
def test_who_took_the_case_is_named_as_plain_text(notice: type, msgid: str, language: str) -> None:
    rendered = render(notice(make_case(status="claimed"), "Doha <Centre>"), language)
    assert rendered.text == translated(language, msgid, code="QA-7K2M", org="Doha <Centre>")
    assert rendered.parse_mode is None and rendered.reply_markup is None


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_previous_owner_is_told_the_case_was_given_away(language: str) -> None:
    rendered = render(CaseReassignedAway(make_case(status="claimed")), language)
    assert rendered.text == translated(
        language,
        "Case {code} was given to another responder by a coordinator. Thank you.",
        code="QA-7K2M",
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("outcome", "result"),
    [
        ("agreed", "done, the reporter agreed"),
        ("refused", "refused: the reporter said no"),
        ("not_yours", "not done: the case is no longer yours to refer"),
    ],
)
def test_a_settled_referral_says_how(outcome: Any, result: str, language: str) -> None:
    rendered = render(ReferralSettled(make_case(), "Kathmandu Shelter", outcome), language)
    assert rendered.text == translated(
        language,
        "Referral of case {code} to {org}: {result}",
        code="QA-7K2M",
        org="Kathmandu Shelter",
        result=translated(language, result),
    )
    assert rendered.parse_mode is None


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_details_the_owner_gets_are_private_and_escaped(language: str) -> None:
    install_test_keys()  # the worker's name and the phone are encrypted columns
    case = make_case(
        status="claimed",
        reporter_role="family",
        relationship="brother",
        worker_name="Asha <B>",
        employer="X & Y",
        agency=None,
        since=None,
        in_danger=True,
        wage_owed_minor=None,
        details=None,
        contact_method="phone",
        contact_phone="+974 3312 3456",
        precise_location=None,
        description=None,
        urgency_reason=None,
    )
    attachments = (Attachment(kind="text", text="hello"), Attachment(kind="photo"))
    rendered = render(CaseDetails(case, attachments), language)
    assert rendered.parse_mode == "HTML" and rendered.reply_markup is None
    lines = (rendered.text or "").split("\n")
    assert (
        translated(
            language,
            "📁 <b>Case {code}</b> — full details (private, do not forward)",
            code="QA-7K2M",
        )
        in lines[0]
    )
    assert translated(language, "Worker: {name}", name="Asha &lt;B&gt;") in rendered.text
    assert translated(language, "Employer: {employer}", employer="X &amp; Y") in rendered.text
    assert translated(language, "Attachments: {n}", n=2) in rendered.text
    assert (
        translated(
            language,
            "Reply to any relayed message, or /reply {code} your text. Timeline: /case {code}. Resolve: /resolve {code}",
            code="QA-7K2M",
        )
        in lines[-1]
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("kind", "msgid"),
    [
        ("description", "[{code}] Description, in the reporter's words:"),
        ("text", "[{code}] Message from the reporter:"),
        ("referral_note", "[{code}] Note from the referring organisation:"),
    ],
)
def test_the_reporters_words_have_a_heading(kind: Any, msgid: str, language: str) -> None:
    rendered = render(ReportersWords(make_case(), kind), language)
    assert rendered.text == translated(language, msgid, code="QA-7K2M")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("notice", "msgid"),
    [
        (ReporterMessageHeading, "💬 [{code}] Reporter:"),
        (ReporterMediaTag, "[{code}] from the reporter"),
        (WorkerJoined, "The worker has joined case {code} and now follows it themselves."),
    ],
)
def test_a_relay_heading_or_update_names_the_case(notice: type, msgid: str, language: str) -> None:
    rendered = render(notice(make_case(status="claimed")), language)
    assert rendered.text == translated(language, msgid, code="QA-7K2M")
    assert rendered.parse_mode is None


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_responders_words_are_headed_with_their_organisation(language: str) -> None:
    rendered = render(ResponderMessageHeading(make_case(), "Doha & Co"), language)
    assert rendered.text == translated(
        language, "💬 A responder of {org} about your case {code}:", org="Doha & Co", code="QA-7K2M"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_unfinished_report_is_recalled(language: str) -> None:
    assert render(DraftReminder(), language).text == translated(
        language,
        "Your report is not finished yet. Tap /start to continue where you stopped, or /cancel to discard it.",
    )


def test_the_domain_loads_without_aiogram_or_the_views() -> None:
    """The domain says what it tells whom; only the views know Telegram's keyboards."""
    code = (
        "import importlib, pkgutil, sys, bot.domain\n"
        "for m in pkgutil.iter_modules(bot.domain.__path__):\n"
        "    importlib.import_module('bot.domain.' + m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('aiogram', 'handlers')"
        " or m.startswith('bot.views')]\n"
        "print(bad); sys.exit(bool(bad))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_drills_reporter_answers_in_the_cases_language(language: str) -> None:
    case = make_case(language="ne", drill=True)
    line = "I can only write at night, when the family is asleep."
    rendered = render(DrillReporterReply(case, line), language)
    assert rendered.text == (
        translated(language, "💬 [{code}] Reporter:", code="QA-7K2M") + "\n" + tr("ne", line)
    )
    assert rendered.parse_mode is None and rendered.reply_markup is None


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_drill_report_says_what_was_done_and_missed(language: str) -> None:
    case = make_case(drill=True)
    rendered = render(
        DrillReport(
            case,
            time_to_claim=dt.timedelta(hours=3),
            messages=2,
            referred=True,
            missed=("not_referred", "late_claim"),
        ),
        language,
    )
    steps = ", ".join(
        [
            translated(language, "claimed"),
            ntr(
                language,
                "wrote to the reporter ({n} message)",
                "wrote to the reporter ({n} messages)",
                2,
            ),
            translated(language, "referred"),
            translated(language, "resolved"),
        ]
    )
    missed = ", ".join(
        [
            translated(language, "not referred to the other side of the corridor"),
            translated(language, "claimed after the escalation deadline"),
        ]
    )
    assert rendered.text == "\n".join(
        [
            translated(language, "Drill report for {code}", code="QA-7K2M"),
            translated(
                language,
                "Time to claim: {time}",
                time=labels.duration(dt.timedelta(hours=3), language),
            ),
            translated(language, "Steps done: {steps}", steps=steps),
            translated(language, "Missed: {missed}", missed=missed),
        ]
    )
    assert rendered.parse_mode is None and rendered.reply_markup is None


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_drill_never_claimed_nor_written_to(language: str) -> None:
    rendered = render(
        DrillReport(
            make_case(drill=True),
            time_to_claim=None,
            messages=0,
            referred=False,
            missed=("never_wrote",),
        ),
        language,
    )
    lines = (rendered.text or "").split("\n")
    assert lines[1] == translated(language, "Time to claim: {time}", time="—")
    assert lines[2] == translated(
        language,
        "Steps done: {steps}",
        steps=translated(language, "claimed") + ", " + translated(language, "resolved"),
    )
    assert lines[3] == translated(
        language, "Missed: {missed}", missed=translated(language, "never wrote to the reporter")
    )
    english = render(
        DrillReport(make_case(), None, 1, False, ()),
        "en",
    ).text
    assert english is not None and english.endswith("Missed: nothing")
    assert "wrote to the reporter (1 message)" in english


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_digest_is_html_and_its_chart_a_captioned_png(language: str) -> None:
    from bot.domain.digest import DigestData

    data = DigestData(["NP-QA"], NOW - dt.timedelta(days=1), NOW)
    series = {"NP-QA": {"new": [1] * 30, "resolved": [0] * 30}}
    digest = Digest(("NP-QA",), data, NOW, weekly=False, series=series)
    text = render(digest, language)
    assert text.parse_mode == "HTML" and text.reply_markup is None and text.photo is None
    assert (text.text or "").startswith(f"<b>{translated(language, '📊 Daily digest')}</b>")
    chart = render(DigestChart(digest, "https://example.org/app"), language)
    assert chart.text == "📈 " + translated(
        language,
        "Cases per day over the last {n} days ({corridors}): solid line new cases, dashed line resolved cases.",
        n=30,
        corridors="NP-QA",
    )
    assert chart.photo is not None and chart.photo.startswith(b"\x89PNG")
    assert buttons(chart) == [
        [(translated(language, "📋 Open the dashboard"), "https://example.org/app")]
    ]
    assert render(DigestChart(digest), language).reply_markup is None


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("reason", "msgid"),
    [
        (
            "timeout",
            "⚠️ Your message about {code} went to the reporter without translation: the translation engine did not answer in time.",
        ),
        (
            "error",
            "⚠️ Your message about {code} went to the reporter without translation: the translation engine is not working.",
        ),
    ],
)
def test_a_writer_is_told_their_message_went_untranslated(
    reason: str, msgid: str, language: str
) -> None:
    rendered = render(UntranslatedMessage(code="QA-7K2M", reason=reason), language)
    assert rendered.text == translated(language, msgid, code="QA-7K2M")
