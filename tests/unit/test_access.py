"""The access policy as a table: every role × action, read as a person would read the README,
and the reach of OWN actions over real cases."""

from __future__ import annotations

import pytest

from bot.domain import access
from bot.domain.access import Action, Decision
from bot.domain.people import Role
from models import Case, Person

A, D, OWN = Decision.ALLOW, Decision.DENY, Decision.OWN
ROLES = ("stranger", "reporter", "responder", "coordinator", "admin")

# action: stranger, reporter, responder, coordinator, admin
EXPECTED = {
    Action.REPORT: (A, A, D, D, D),
    Action.SOS: (A, A, D, D, D),
    Action.STATUS: (A, A, D, D, D),
    Action.JOIN: (A, A, D, D, D),
    Action.CONSENT: (A, A, D, D, D),
    Action.CLEAR: (A, A, D, D, D),
    Action.FORGET: (A, A, D, D, D),
    Action.RELAY_TO_OWNER: (A, A, D, D, D),
    Action.CLAIM: (D, D, OWN, OWN, OWN),
    Action.PASS: (D, D, OWN, OWN, OWN),
    Action.VIEW_CASE: (D, D, OWN, OWN, OWN),
    Action.READ_DETAILS: (D, D, OWN, OWN, OWN),
    Action.REPLY: (D, D, OWN, OWN, OWN),
    Action.RESOLVE: (D, D, OWN, OWN, OWN),
    Action.REOPEN: (D, D, OWN, OWN, OWN),
    Action.REFER: (D, D, OWN, OWN, OWN),
    Action.FOLLOWUP: (D, D, OWN, OWN, OWN),
    Action.SNOOZE: (D, D, OWN, OWN, OWN),
    Action.ONCALL: (D, D, A, A, A),
    Action.DIGEST: (D, D, D, A, A),
    Action.STATS: (D, D, D, A, A),
    Action.EXPORT: (D, D, D, A, A),
    Action.REPORT_EVIDENCE: (D, D, D, A, A),
    Action.DASHBOARD: (D, D, D, A, A),
    Action.INVITE: (D, D, D, A, A),
    Action.TEAM: (D, D, D, A, A),
    Action.REMOVE: (D, D, D, A, A),
    Action.ROTA: (D, D, D, A, A),
    Action.LINK_GROUP: (D, D, D, A, A),
    Action.DRILL: (D, D, D, A, A),
    Action.BLOCK: (D, D, D, OWN, OWN),
    Action.OVERRIDE: (D, D, D, OWN, OWN),
    Action.MANAGE_CASE: (D, D, D, OWN, OWN),
}


def test_every_action_is_in_the_table() -> None:
    assert set(EXPECTED) == set(Action)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", ROLES)
def test_decision(role: str, action: Action) -> None:
    assert access.decide(role, action) is EXPECTED[action][ROLES.index(role)]


def test_an_unknown_role_is_denied_everything() -> None:
    assert {access.decide("intruder", action) for action in Action} == {Decision.DENY}


def person(pid: int, role: str) -> Role:
    return Role(role, person=Person(id=pid, role=role, name=f"P{pid}"))


CASE = Case(id=1, code="QA-1", corridor_code="NP-QA", owner_person_id=7)


@pytest.mark.parametrize(
    ("who", "action", "corridors", "reached"),
    [
        (person(7, "responder"), Action.VIEW_CASE, [], True),  # their own case
        (person(8, "responder"), Action.VIEW_CASE, [], False),  # a colleague's
        (person(9, "coordinator"), Action.VIEW_CASE, ["NP-QA"], True),  # their corridor
        (person(9, "coordinator"), Action.VIEW_CASE, ["ID-MY"], False),  # another corridor
        (person(9, "coordinator"), Action.REPLY, ["NP-QA"], False),  # only the owner speaks
        (person(7, "responder"), Action.REPLY, [], True),
        (person(9, "coordinator"), Action.OVERRIDE, ["NP-QA"], True),
        (person(9, "coordinator"), Action.BLOCK, ["ID-MY"], False),
        (person(7, "responder"), Action.BLOCK, [], False),  # even on their own case
        (person(1, "admin"), Action.RESOLVE, [], True),
        # Personal details: the owner only, whoever else may see the case.
        (person(7, "responder"), Action.READ_DETAILS, [], True),
        (person(8, "responder"), Action.READ_DETAILS, [], False),
        (person(9, "coordinator"), Action.READ_DETAILS, ["NP-QA"], False),
        (person(7, "coordinator"), Action.READ_DETAILS, ["NP-QA"], True),  # owns it
        (person(1, "admin"), Action.READ_DETAILS, [], False),
        (Role("reporter"), Action.READ_DETAILS, [], False),
        (Role("reporter"), Action.VIEW_CASE, [], False),
        # Snoozing the owner's reminders: the owner only, not the corridor's coordinator.
        (person(7, "responder"), Action.SNOOZE, [], True),
        (person(9, "coordinator"), Action.SNOOZE, ["NP-QA"], False),
        (person(1, "admin"), Action.SNOOZE, [], False),
    ],
)
def test_reach_of_case_actions(
    who: Role, action: Action, corridors: list[str], reached: bool
) -> None:
    assert access.reaches(who, CASE, corridors, action) is reached


# The end-to-end matrix (tests/e2e/test_access_matrix.py, the README's table) runs each
# action's allowed cells and its nearest denials; the other cells of its case actions are
# these: the same roles, as the policy sees them, on a case of NP-QA owned by Ramesh.
E2E_CASE_ACTIONS = {
    "reply": Action.REPLY,
    "case": Action.VIEW_CASE,
    "resolve": Action.RESOLVE,
    "reopen": Action.REOPEN,
    "refer": Action.REFER,
    "followup": Action.FOLLOWUP,
    "override": Action.OVERRIDE,
    "block": Action.BLOCK,
}
RAMESH = 20
E2E_ROLES: dict[str, tuple[Role, list[str]]] = {
    "stranger": (Role("stranger"), []),
    "reporter": (Role("reporter"), []),
    "other_reporter": (Role("reporter"), []),
    "org_responder": (person(21, "responder"), []),
    "owner": (person(RAMESH, "responder"), []),
    "other_org_responder": (person(22, "responder"), []),
    "coordinator": (person(23, "coordinator"), ["NP-QA"]),
    "other_coordinator": (person(24, "coordinator"), ["ID-MY"]),
    # Removed: no longer in the staff directory, so the bot sees whoever writes as a stranger.
    "removed": (Role("stranger"), []),
}


@pytest.mark.parametrize("action", list(E2E_CASE_ACTIONS))
def test_the_readme_matrix_from_the_policy(action: str) -> None:
    from tests.e2e.test_access_matrix import MATRIX, ROLES

    assert set(E2E_ROLES) == set(ROLES)
    case = Case(id=2, code="QA-2", corridor_code="NP-QA", owner_person_id=RAMESH)
    decided = {
        role: "allow" if access.reaches(who, case, corridors, E2E_CASE_ACTIONS[action]) else "deny"
        for role, (who, corridors) in E2E_ROLES.items()
    }
    assert decided == MATRIX[action]
