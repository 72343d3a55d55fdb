"""How much a frightened person has to do (issue 11, point 8): taps and typed messages from
/start to "your report is registered", for each kind of report, answering only what is
required. The README's table comes from these counts; the test fails when a path grows
past its goal.

The reporter is played by what the bot shows, not by a script of the flow
(``tests.support.ReportPlayer``): at each message it finds the question from its buttons,
answers it from ``answers`` if it is asked for, presses Skip or Done if it may be left out,
and sends the report at the summary. So the same player counts any version of the wizard.

The language is not asked when the phone's language is one the bot speaks; a phone in
another language adds that question (1 tap)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.domain.cases import consents_of
from corridor_dev.harness import Harness
from models import Case
from tests.support import ReportPlayer, play_report

YES_TO_ALL = {
    "consent": ["all"],
    "consent_destination_help": ["yes"],
    "consent_origin_help": ["yes"],
    "consent_statistics": ["yes"],
}
WORKER = {
    "role": ["self"],
    "destination": ["QA"],
    "origin": ["NP"],
    "categories": [["WAGE"]],
    "danger": ["no"],
    "contact": ["chat"],
    "safe_hours": ["any"],
    **YES_TO_ALL,
}
# A mother in Nepal, reached through the family's phone, as in the issue.
FAMILY = {
    **WORKER,
    "role": ["parent", "family"],
    "relationship": ["parent"],
    "contact": ["family"],
    "phone": ("type", "+977 984 123 4567"),
    "safe_hours": ["18-22"],
}
MISSING = {
    **FAMILY,
    "relationship": ["sibling"],
    "worker_name": ("type", "Suman Tamang"),
    "last_contact": ["month"],
    "contact": ["phone"],
}

# kind of report → (flow, answers, the phone's language, most taps, most typed messages);
# the goals of the issue.
PATHS = {
    "worker's own report": ("report", WORKER, "ne", 10, 0),
    "family report": ("report", FAMILY, "ne", 12, 1),  # the phone number asked for
    "missing person": ("missing", MISSING, "ne", 12, 2),  # the name and the phone number
    # A phone in a language the bot does not speak: asked for the language first.
    "worker's own report, phone in German": ("report", WORKER, "de", 10, 0),
}


@pytest.mark.parametrize("kind", list(PATHS))
async def test_taps_per_report(harness: Harness, kind: str) -> None:
    flow, answers, phone, most_taps, most_typed = PATHS[kind]
    uid = await harness.user("Counted", phone)
    counted = await play_report(harness, uid, flow, ReportPlayer(answers))
    print(f"\n{kind}: /start + {counted.taps} taps + {counted.typed} typed")
    assert counted.language_asked == (phone == "de")
    # Nothing responders, routing or the statistics need was lost on the way.
    async with harness.app.domain.sessions() as session:
        case = await session.scalar(select(Case))
        assert case is not None
        consents = await consents_of(session, case)
    assert consents == {"destination_help": True, "origin_help": True, "statistics": True}
    assert (case.destination_country, case.origin_country) == ("QA", "NP")
    if kind == "missing person":
        assert case.categories == ["MISS"] and case.relationship == "sibling"
        assert case.worker_name == "Suman Tamang" and case.contact_phone == "+9779841234567"
    else:
        assert case.categories == ["WAGE"] and case.in_danger is False
    if kind == "family report":
        assert (case.reporter_role, case.relationship) == ("family", "parent")
        assert (case.contact_method, case.contact_phone) == ("family", "+9779841234567")
    assert counted.taps <= most_taps and counted.typed <= most_typed, counted
