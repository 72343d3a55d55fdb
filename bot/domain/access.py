"""Who may do what: one table of role × action, and one function that reads it.

Every handler, callback, CLI command and web page asks here; nothing else decides access.
An action on a case is allowed on the cases within the person's reach: a responder's own
cases (their organisation's, for claiming a card), a coordinator's corridors, everything for
an admin; writing to a reporter and reading their personal details, only the case's owner."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.cases import case_by_code
from bot.domain.people import Role, coordinator_corridors
from bot.taxonomy import OPEN_STATUSES, ConsentPurpose
from models import Case


class Action(StrEnum):
    # reporters
    REPORT = "report"
    SOS = "sos"
    STATUS = "status"
    JOIN = "join"
    CONSENT = "consent"
    CLEAR = "clear"
    FORGET = "forget"
    RELAY_TO_OWNER = "relay_to_owner"
    # responders, on a case
    CLAIM = "claim"
    PASS = "pass"
    VIEW_CASE = "view_case"
    # the reporter's personal details: names, contact, their own words and files
    READ_DETAILS = "read_details"
    REPLY = "reply"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    REFER = "refer"
    FOLLOWUP = "followup"
    # the owner's reminder and check-in, put off from the reminder's own button
    SNOOZE = "snooze"
    ONCALL = "oncall"
    # coordinators
    DIGEST = "digest"
    STATS = "stats"
    EXPORT = "export"
    REPORT_EVIDENCE = "report_evidence"
    DASHBOARD = "dashboard"
    INVITE = "invite"
    TEAM = "team"
    REMOVE = "remove"
    ROTA = "rota"
    LINK_GROUP = "link_group"
    DRILL = "drill"
    BLOCK = "block"
    OVERRIDE = "override"
    # nudge an organisation, give a case to a responder, release it (the dashboard)
    MANAGE_CASE = "manage_case"


class Decision(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    # Allowed on a case within the person's reach (see reaches()).
    OWN = "own"


_REPORTER_ACTIONS = {
    Action.REPORT,
    Action.SOS,
    Action.STATUS,
    Action.JOIN,
    Action.CONSENT,
    Action.CLEAR,
    Action.FORGET,
    Action.RELAY_TO_OWNER,
}
_CASE_ACTIONS = {
    Action.CLAIM,
    Action.PASS,
    Action.VIEW_CASE,
    Action.READ_DETAILS,
    Action.REPLY,
    Action.RESOLVE,
    Action.REOPEN,
    Action.REFER,
    Action.FOLLOWUP,
    Action.SNOOZE,
}
_COORDINATOR_ACTIONS = {
    Action.DIGEST,
    Action.STATS,
    Action.EXPORT,
    Action.REPORT_EVIDENCE,
    Action.DASHBOARD,
    Action.INVITE,
    Action.TEAM,
    Action.REMOVE,
    Action.ROTA,
    Action.LINK_GROUP,
    Action.DRILL,
}
_CORRIDOR_CASE_ACTIONS = {Action.BLOCK, Action.OVERRIDE, Action.MANAGE_CASE}
_OWNER_ONLY = {Action.REPLY, Action.READ_DETAILS, Action.SNOOZE}


def _table() -> dict[tuple[str, Action], Decision]:
    table: dict[tuple[str, Action], Decision] = {}
    for action in Action:
        for role in ("stranger", "reporter"):
            # A stranger becomes a reporter by reporting; staff report through colleagues.
            table[(role, action)] = Decision.ALLOW if action in _REPORTER_ACTIONS else Decision.DENY
        for role in ("responder", "coordinator", "admin"):
            if action in _REPORTER_ACTIONS:
                decision = Decision.DENY
            elif action in _CASE_ACTIONS:
                decision = Decision.OWN
            elif action is Action.ONCALL:
                decision = Decision.ALLOW
            elif action in _COORDINATOR_ACTIONS:
                decision = Decision.DENY if role == "responder" else Decision.ALLOW
            else:  # block, override, manage: a coordinator's word on a case of their corridor
                decision = Decision.DENY if role == "responder" else Decision.OWN
            table[(role, action)] = decision
    return table


POLICY = _table()


def decide(role: str, action: Action) -> Decision:
    """The table's answer; an unknown role is denied everything."""
    return POLICY.get((role, action), Decision.DENY)


def allowed(role: Role, action: Action) -> bool:
    """Allowed at all (for an OWN action: on some case)."""
    return decide(role.name, action) is not Decision.DENY


def reaches(role: Role, case: Case, corridors: Iterable[str], action: Action) -> bool:
    """Whether ``case`` is within the person's reach for ``action``."""
    decision = decide(role.name, action)
    if decision is Decision.ALLOW:
        return True
    if decision is Decision.DENY or role.person is None:
        return False
    if action in _OWNER_ONLY:
        # A reporter talks to one person: only that person writes to them and reads who
        # they are (a coordinator, even an admin, takes the case first to see either); the
        # reminders to snooze are the owner's own.
        return case.owner_person_id == role.person.id
    if role.name == "admin":
        return True
    if action in _CORRIDOR_CASE_ACTIONS:
        return case.corridor_code in set(corridors)
    if action is Action.CLAIM:
        # Claiming is for the organisation whose group shows the card (checked by the
        # claim itself), and for the corridor's coordinators.
        return True
    if case.owner_person_id == role.person.id:
        return True
    return role.name == "coordinator" and case.corridor_code in set(corridors)


async def corridors_of(session: AsyncSession, role: Role) -> list[str]:
    if role.person is None or role.name not in ("coordinator", "admin"):
        return []
    return await coordinator_corridors(session, role.person)


async def case_for(
    session: AsyncSession, role: Role, action: Action, code: str | Case | None
) -> Case | None:
    """The case a person may act on with ``action``, or None (unknown, or out of reach:
    the two are not told apart, so a code cannot be probed)."""
    if not code or decide(role.name, action) is Decision.DENY:
        return None
    case = code if isinstance(code, Case) else await case_by_code(session, code)
    if case is None:
        return None
    return case if reaches(role, case, await corridors_of(session, role), action) else None


async def reporters_case(session: AsyncSession, role: Role, case_id: int) -> Case | None:
    """The case, if it is the reporter's own: a reporter acts on their own cases only, and
    anything else looks as if it did not exist."""
    if role.reporter is None:
        return None
    case = await session.get(Case, case_id)
    return case if case is not None and case.reporter_id == role.reporter.id else None


async def consent_case(
    session: AsyncSession, role: Role, case_id: int, purpose: str
) -> Case | None:
    """The case a consent button names, if it is the reporter's own, open, not erased, and
    the purpose a real one."""
    case = await reporters_case(session, role, case_id)
    if (
        case is None
        or case.erased
        or case.status not in [s.value for s in OPEN_STATUSES]
        or purpose not in {p.value for p in ConsentPurpose}
    ):
        return None
    return case
