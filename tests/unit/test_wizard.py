"""The guided report's rules without Telegram: which question comes next, what each answer
and each bad input leads to, and the report the answers make."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from bot.domain import wizard
from bot.domain.wizard import MAX_ATTACHMENTS, MAX_DESCRIPTION, Draft, Outcome
from tests.support import example_corridors, wage_report

CORRIDORS = example_corridors()
DETAILS = ("nav", "details")
SKIP = ("nav", "skip")
DONE = ("nav", "done")


def play(flow: str, script: list[Any], corridors: list[Any] = CORRIDORS) -> tuple[Draft, list[str]]:
    """Answers each question in turn: a value for a choice, a list for a multiple choice,
    ("type", text) for something typed, ("describe", text) for words added to the
    description, ("nav", action) for Skip, Done or Add details. Returns the draft and the
    questions asked, in order."""
    draft = wizard.start(flow, "ne", corridors)
    asked = []
    for answer in script:
        if isinstance(answer, tuple) and answer[0] == "describe":
            assert wizard.type_text(draft, answer[1], corridors, str) == Outcome("described")
            continue
        asked.append(draft.step)
        if isinstance(answer, list):
            for value in answer:
                assert wizard.choose(draft, draft.step, value, corridors).result == "toggled"
            outcome = wizard.navigate(draft, "done", draft.step, corridors)
        elif isinstance(answer, tuple) and answer[0] == "nav":
            outcome = wizard.navigate(draft, answer[1], draft.step, corridors)
        elif isinstance(answer, tuple) and answer[0] == "type":
            outcome = wizard.type_text(draft, answer[1], corridors, str)
        else:
            outcome = wizard.choose(draft, draft.step, answer, corridors)
        assert outcome.result == "next", (asked[-1], answer, outcome)
    return draft, asked


# -- the shortest paths ----------------------------------------------------------------------

WORKER_MINIMAL = ["self", "QA", ["WAGE"], "no", "chat", "all"]
FAMILY_MINIMAL = ["parent", "QA", ["WAGE"], "no", "family", ("type", "+977 984 123 4567")]
FAMILY_MINIMAL += ["18-22", "all"]


def test_a_workers_own_report_asks_only_what_responders_need() -> None:
    draft, asked = play("report", WORKER_MINIMAL)
    # Qatar has one origin in the network (Nepal): it is filled in, not asked.
    assert asked == ["role", "destination", "categories", "danger", "contact", "consent"]
    assert draft.step == "summary" and draft.can_add_details
    assert "origin" not in draft.history
    report = wizard.build_report(draft)
    assert report == wage_report(
        area=None,
        description=None,
        employer=None,
        wage_owed_minor=None,
        wage_currency=None,
    )
    assert wizard.safe_hours(draft) == (None, None)  # written to in this chat: any time


def test_a_family_report_says_relationship_phone_and_safe_hours_in_the_reporters_zone() -> None:
    draft, asked = play("report", FAMILY_MINIMAL)
    assert asked == [
        "role",
        "destination",
        "categories",
        "danger",
        "contact",
        "phone",
        "safe_hours",
        "consent",
    ]
    report = wizard.build_report(draft)
    assert (report.reporter_role, report.relationship) == ("family", "parent")
    assert (report.contact_method, report.contact_phone) == ("family", "+9779841234567")
    assert wizard.safe_hours(draft) == (18, 22)
    # A mother at home keeps Nepal's evening, not Qatar's.
    assert wizard.reporter_timezone(report) == "Asia/Kathmandu"


def test_a_worker_abroad_keeps_the_hours_of_where_they_work() -> None:
    draft, _asked = play(
        "report", ["self", "QA", ["WAGE"], "no", "phone", ("type", "+97433123456"), "6-12", "all"]
    )
    assert wizard.safe_hours(draft) == (6, 12)
    assert wizard.reporter_timezone(wizard.build_report(draft)) == "Asia/Qatar"


def test_every_detail_added_at_the_end_makes_the_full_report() -> None:
    draft, asked = play(
        "report",
        [
            *WORKER_MINIMAL,
            DETAILS,
            "Doha",
            "months",
            "6-20",
            ("type", "Al Noor Contracting"),
            SKIP,
            ("type", "4800"),
            ("describe", "Not paid for four months"),
            DONE,
            "18-22",
            "SECTOR_F",
            "MAN",
        ],
    )
    assert asked[6:] == [
        "summary",
        "area",
        "since",
        "workers",
        "employer",
        "agency",
        "wages",
        "description",
        "chat_hours",
        "sector",
        "gender",
    ]
    assert draft.step == "summary" and not draft.can_add_details
    assert wizard.build_report(draft) == wage_report(
        employer="Al Noor Contracting",
        since="months",
        workers_affected=10,
        sector="SECTOR_F",
        gender="MAN",
    )
    assert wizard.safe_hours(draft) == (18, 22)


def test_a_family_report_adds_the_workers_name_as_a_detail() -> None:
    draft, asked = play(
        "report", [*FAMILY_MINIMAL, DETAILS, SKIP, SKIP, SKIP, SKIP, SKIP, SKIP, ("type", "Ram")]
    )
    assert asked[-1] == "worker_name"
    assert wizard.build_report(draft).worker_name == "Ram"


# -- countries -------------------------------------------------------------------------------


def test_the_origin_is_asked_where_a_destination_has_several() -> None:
    draft, asked = play("report", ["self", "MY", "ID", ["DOCS"]])
    assert asked == ["role", "destination", "origin", "categories"]
    assert (draft.answers["destination"], draft.answers["origin"]) == ("MY", "ID")


def test_a_network_with_one_destination_and_one_origin_asks_for_neither_in_a_missing_report() -> (
    None
):
    corridors = example_corridors("NP-QA")
    draft, asked = play("missing", ["parent"], corridors)
    assert asked == ["relationship"]
    assert draft.step == "worker_name"
    assert (draft.answers["destination"], draft.answers["origin"]) == ("QA", "NP")


def test_a_worker_back_home_is_routed_home_and_asked_where_they_worked() -> None:
    draft, asked = play("report", ["self", "home", "MY", "NP", ["WAGE"], "no", "chat", "all"])
    assert asked[:4] == ["role", "destination", "worked_in", "origin"]
    report = wizard.build_report(draft)
    assert (report.worker_location, report.destination_country, report.area) == (
        "origin",
        "MY",
        None,
    )
    assert wizard.reporter_timezone(report) == "Asia/Kathmandu"
    # No area in the destination to offer as a detail for a worker who left it.
    wizard.navigate(draft, "details", "summary", CORRIDORS)
    assert draft.step == "since"


def test_back_returns_to_the_last_question_shown_not_to_a_filled_in_one() -> None:
    draft, _asked = play("report", ["self", "QA"])
    assert draft.step == "categories"
    assert wizard.navigate(draft, "back", "categories", CORRIDORS) == Outcome("ask")
    assert draft.step == "destination"
    # Another destination drops the origin of the first and asks again where needed.
    wizard.choose(draft, "destination", "MY", CORRIDORS)
    assert draft.step == "origin" and "origin" not in draft.answers


# -- consent ---------------------------------------------------------------------------------


def test_consents_one_by_one() -> None:
    draft, asked = play(
        "report", [*WORKER_MINIMAL[:-1], "choose", "no", "yes", "no", DETAILS, SKIP, SKIP]
    )
    assert asked[5:9] == [
        "consent",
        "consent_destination_help",
        "consent_origin_help",
        "consent_statistics",
    ]
    assert wizard.build_report(draft).consents == {
        "destination_help": False,
        "origin_help": True,
        "statistics": False,
    }


def test_sector_and_gender_are_not_asked_and_not_kept_without_the_statistics_consent() -> None:
    draft, _asked = play("report", [*WORKER_MINIMAL[:-1], "choose", "yes", "yes", "no"])
    wizard.navigate(draft, "details", "summary", CORRIDORS)
    steps = []
    while draft.step != "summary":
        steps.append(draft.step)
        wizard.navigate(draft, "skip" if draft.spec.optional else "done", draft.step, CORRIDORS)
    assert "sector" not in steps and "gender" not in steps
    # An answer given before the consent was changed to no is not part of the report.
    draft.answers.update(sector="SECTOR_T", gender="WOMAN")
    report = wizard.build_report(draft)
    assert (report.sector, report.gender) == (None, None)


def test_prefer_not_to_say_is_kept_as_an_answer_and_skip_as_none() -> None:
    draft, _asked = play("report", [*WORKER_MINIMAL, DETAILS, *[SKIP] * 6, DONE])
    assert draft.step == "chat_hours"
    for answer in (SKIP, SKIP, "UNSAID"):
        play_one(draft, answer)
    report = wizard.build_report(draft)
    assert (report.sector, report.gender) == (None, "UNSAID")


def play_one(draft: Draft, answer: Any) -> None:
    if isinstance(answer, tuple):
        outcome = wizard.navigate(draft, answer[1], draft.step, CORRIDORS)
    else:
        outcome = wizard.choose(draft, draft.step, answer, CORRIDORS)
    assert outcome.result == "next", outcome


# -- answers left behind ---------------------------------------------------------------------


def test_a_phone_given_then_taken_back_is_not_in_the_report() -> None:
    draft, _asked = play(
        "report", ["parent", "QA", ["WAGE"], "no", "phone", ("type", "+97433123456")]
    )
    wizard.navigate(draft, "back", draft.step, CORRIDORS)
    wizard.navigate(draft, "back", draft.step, CORRIDORS)
    assert draft.step == "contact"
    play_one(draft, "chat")
    report = wizard.build_report(draft)
    assert (report.contact_method, report.contact_phone) == ("chat", None)


def test_a_relationship_is_dropped_when_the_reporter_says_they_are_the_worker() -> None:
    draft, _asked = play("report", ["parent"])
    wizard.navigate(draft, "back", draft.step, CORRIDORS)
    play_one(draft, "self")
    assert draft.answers["role"] == "self" and "relationship" not in draft.answers


# -- bad input: each has a defined result ----------------------------------------------------


def test_buttons_that_do_not_fit_the_question() -> None:
    draft = wizard.start("report", "en", CORRIDORS)
    assert wizard.choose(draft, "danger", "yes", CORRIDORS) == Outcome("stale")
    assert wizard.choose(draft, "role", "boss", CORRIDORS) == Outcome("unavailable")
    assert wizard.navigate(draft, "skip", "role", CORRIDORS) == Outcome("stale")  # required
    assert wizard.navigate(draft, "done", "role", CORRIDORS) == Outcome("stale")  # no Done
    assert wizard.navigate(draft, "submit", "role", CORRIDORS) == Outcome("stale")
    assert wizard.navigate(draft, "details", "role", CORRIDORS) == Outcome("stale")
    assert wizard.navigate(draft, "frobnicate", "role", CORRIDORS) == Outcome("stale")
    assert wizard.navigate(draft, "skip", "area", CORRIDORS) == Outcome("stale")  # earlier one
    assert wizard.navigate(draft, "back", "role", CORRIDORS) == Outcome("ask")  # first: stays
    assert draft.step == "role" and draft.answers == {}
    assert wizard.navigate(draft, "cancel", "anything", CORRIDORS) == Outcome("cancelled")


def test_a_country_outside_the_network_is_not_a_choice() -> None:
    draft, _asked = play("report", ["self"])
    assert wizard.choose(draft, "destination", "SA", CORRIDORS) == Outcome("unavailable")
    assert wizard.choose(draft, "destination", "ZZ", CORRIDORS) == Outcome("unavailable")


def test_done_with_nothing_chosen_asks_for_one() -> None:
    draft, _asked = play("report", ["self", "QA"])
    assert wizard.navigate(draft, "done", "categories", CORRIDORS) == Outcome("need_one")
    wizard.choose(draft, "categories", "WAGE", CORRIDORS)
    wizard.choose(draft, "categories", "WAGE", CORRIDORS)  # tapped again: unticked
    assert wizard.navigate(draft, "done", "categories", CORRIDORS) == Outcome("need_one")


def test_add_details_twice_is_stale_the_second_time() -> None:
    draft, _asked = play("report", [*WORKER_MINIMAL, DETAILS])
    wizard.navigate(draft, "back", draft.step, CORRIDORS)
    assert draft.step == "summary"
    assert wizard.navigate(draft, "details", "summary", CORRIDORS) == Outcome("stale")
    assert wizard.navigate(draft, "submit", "summary", CORRIDORS) == Outcome("submit")


@pytest.mark.parametrize(
    ("typed", "result", "problem"),
    [
        ("maybe", "ask", "use_buttons"),
        ("", "ask", "use_buttons"),
        ("YES", "next", None),  # a choice typed, in any case
        ("yes ", "next", None),
    ],
)
def test_typing_at_a_choice(typed: str, result: str, problem: str | None) -> None:
    draft, _asked = play("report", ["self", "QA", ["WAGE"]])
    assert draft.step == "danger"
    assert wizard.type_text(draft, typed, CORRIDORS, str) == Outcome(result, problem)  # type: ignore[arg-type]


def test_a_choice_typed_in_the_reporters_language() -> None:
    draft, _asked = play("report", ["self", "QA", ["WAGE"]])
    outcome = wizard.type_text(
        draft, "होइन", CORRIDORS, lambda label: {"No": "होइन"}.get(label, label)
    )
    assert outcome.result == "next" and draft.answers["danger"] == "no"


@pytest.mark.parametrize(
    ("typed", "workers"),
    [("12", 12), ("99999", 99999), ("0", None), ("100000", None), ("-3", None)],
)
def test_a_number_of_workers_typed(typed: str, workers: int | None) -> None:
    draft, _asked = play("report", [*WORKER_MINIMAL, DETAILS, SKIP, SKIP])
    assert draft.step == "workers"
    outcome = wizard.type_text(draft, typed, CORRIDORS, str)
    if workers is None:
        assert outcome == Outcome("ask", "use_buttons")
    else:
        assert outcome.result == "next"
        assert wizard.build_report(draft).workers_affected == workers


@pytest.mark.parametrize(
    ("step_script", "typed", "problem"),
    [
        (["parent", "QA", ["WAGE"], "no", "phone"], "12345", "bad_phone"),
        (["parent", "QA", ["WAGE"], "no", "phone"], "call me", "bad_phone"),
        (["parent", "QA", ["WAGE"], "no", "phone"], "   ", "bad_phone"),
        ([*WORKER_MINIMAL, DETAILS, SKIP, SKIP, SKIP], "x" * 501, "too_long"),
        ([*WORKER_MINIMAL, DETAILS, SKIP, SKIP, SKIP, SKIP, SKIP], "a lot", "bad_amount"),
        ([*WORKER_MINIMAL, DETAILS, SKIP, SKIP, SKIP, SKIP, SKIP], "-5", "bad_amount"),
    ],
)
def test_typed_answers_that_are_refused_keep_the_question(
    step_script: list[Any], typed: str, problem: str
) -> None:
    draft, _asked = play("report", step_script)
    step = draft.step
    assert wizard.type_text(draft, typed, CORRIDORS, str) == Outcome("ask", problem)
    assert draft.step == step and step not in draft.answers


def test_a_blank_answer_to_an_optional_question_counts_as_skipped() -> None:
    draft, _asked = play("report", [*WORKER_MINIMAL, DETAILS, SKIP, SKIP, SKIP])
    assert draft.step == "employer"
    assert wizard.type_text(draft, "  ", CORRIDORS, str).result == "next"
    assert "employer" not in draft.answers and draft.step == "agency"


def test_a_missing_workers_name_is_required() -> None:
    draft, _asked = play("missing", ["parent", "QA"])
    assert draft.step == "worker_name"
    assert wizard.type_text(draft, " ", CORRIDORS, str) == Outcome("ask", "empty")


def test_the_description_is_cut_at_its_limit_and_says_so() -> None:
    draft, _asked = play("report", [*WORKER_MINIMAL, DETAILS, *[SKIP] * 6])
    assert draft.step == "description"
    assert wizard.type_text(draft, "a" * (MAX_DESCRIPTION - 1), CORRIDORS, str) == Outcome(
        "described"
    )
    assert wizard.type_text(draft, "more", CORRIDORS, str) == Outcome("described", "truncated")
    assert len(draft.answers["description"]) == MAX_DESCRIPTION
    assert draft.step == "description"


def test_files_are_kept_at_any_question_up_to_the_limit() -> None:
    draft = wizard.start("report", "en", CORRIDORS)
    for n in range(1, MAX_ATTACHMENTS + 1):
        assert wizard.add_file(draft, ("photo", f"file-{n}", None)) == Outcome(
            "file_added", count=n
        )
    assert wizard.add_file(draft, ("photo", "one-more", None)) == Outcome("too_many_files")
    draft.answers.update(destination="QA", origin="NP")
    # A location is where the worker is, not a file to keep.
    draft.attachments[-1] = ["location", None, "25.28500,51.53100"]
    report = wizard.build_report(draft)
    assert report.precise_location == "25.28500,51.53100"
    assert len(report.attachments) == MAX_ATTACHMENTS - 1


@pytest.mark.parametrize(
    "stored",
    [
        {},
        {"answers": {}},
        {"step": "role"},
        {"step": "role", "answers": "not a dict"},
        {"step": "no_such_question", "answers": {}},
        {"flow": "nonsense", "step": "role", "answers": {}},
        {"flow": "missing", "step": "role", "answers": {}},  # a question of the other flow
    ],
)
def test_a_stored_draft_that_cannot_be_continued_is_refused(stored: dict[str, Any]) -> None:
    assert Draft.restore({"version": wizard.DRAFT_VERSION, **stored}) is None


def test_a_draft_of_the_older_wizard_is_refused_rather_than_continued_out_of_order() -> None:
    # Before consent was one question, a draft at "since" had not been asked for consent.
    older = {"flow": "report", "step": "since", "answers": {"role": "self"}, "history": []}
    assert Draft.restore(older) is None
    assert Draft.restore({**older, "version": wizard.DRAFT_VERSION}) is not None


def test_a_stored_draft_comes_back_as_it_was() -> None:
    draft, _asked = play("report", [*WORKER_MINIMAL, DETAILS])
    wizard.add_file(draft, ("photo", "file-1", "payslip"))
    assert Draft.restore(draft.stored()) == draft


def test_the_wizard_runs_without_telegram() -> None:
    """The domain never imports aiogram: the wizard loads in a process that has none."""
    code = (
        "import sys, bot.domain.wizard; sys.exit(any(m.startswith('aiogram') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
