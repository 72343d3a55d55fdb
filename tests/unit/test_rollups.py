"""Rollups stay equal to direct counts whatever happens to cases, on SQLite and PostgreSQL.

One database serves the module; its event loop is driven by hand, one
``run_until_complete`` per Hypothesis example (as in tests/e2e/test_fuzz_updates.py), so
the cases pile up across examples. After every example the rollup rows must equal (a) the
rows a rebuild computes from the cases and (b) counts made directly from the cases and the
export's own (independent) query.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.app import make_domain
from bot.clock import FakeClock
from bot.domain import cases, claims, events, network, privacy, referral, resolution, rollups
from bot.domain.context import Domain
from bot.domain.exports import anonymised_rows
from models import Case, CaseCard, Person, Reporter, StatsDay, StatsName
from models.db import make_engine, make_sessionmaker
from tests.support import database, install_test_keys, make_config, wage_report

START = dt.datetime(2026, 1, 30, 22, tzinfo=dt.UTC)  # month and year ends are near


@dataclass
class World:
    loop: asyncio.AbstractEventLoop
    domain: Domain
    users: Iterator[int]

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    loop = asyncio.new_event_loop()
    context = database(Path(tmp_path_factory.mktemp("rollups")))
    url = loop.run_until_complete(context.__aenter__())
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    domain = make_domain(
        make_config(url), sessions, clock=FakeClock(START), keys=install_test_keys()
    )

    async def setup() -> None:
        async with sessions() as session, session.begin():
            await network.sync_network(session, domain.config)

    loop.run_until_complete(setup())
    yield World(loop, domain, iter(range(50_000, 10_000_000)))
    loop.run_until_complete(engine.dispose())
    loop.run_until_complete(context.__aexit__(None, None, None))
    loop.close()


# --- Operations ---------------------------------------------------------------------------

CATEGORY_SETS = st.lists(
    st.sampled_from(["WAGE", "DOCS", "PHYS", "SEXV", "MOVE", "DEBT", "OTHR"]), max_size=3
)
submit_op = st.tuples(
    st.just("submit"),
    st.fixed_dictionaries(
        {
            "corridor": st.sampled_from(["NP-QA", "ID-MY"]),
            "categories": CATEGORY_SETS,
            "statistics": st.sampled_from([True, True, False, None]),
            "workers": st.integers(1, 4),
            "owed": st.none() | st.integers(1, 10**6),
            "sector": st.sampled_from([None, "SECTOR_T", "SECTOR_F", "bogus"]),
            "gender": st.sampled_from([None, "WOMAN", "MAN", "UNSAID"]),
        }
    ),
)
case_op = st.tuples(
    st.sampled_from(
        [
            "claim",
            "claim",
            "resolve",
            "resolve",
            "reopen",
            "withdraw_statistics",
            "grant_statistics",
            "refuse_statistics",
            "refer",
            "escalate",
            "forget",
            "withdraw",
        ]
    ),
    st.fixed_dictionaries(
        {
            "pick": st.integers(0, 10**6),
            "outcome": st.sampled_from(["WAGES_RECOVERED", "REPATRIATED", "OTHER"]),
            "amount": st.integers(1, 10**6),
        }
    ),
)
advance_op = st.tuples(st.just("advance"), st.fixed_dictionaries({"hours": st.integers(1, 90)}))
OPERATIONS = st.lists(st.one_of(submit_op, submit_op, case_op, case_op, advance_op), max_size=14)


async def pick_case(session: Any, pick: int) -> Case | None:
    ids = list(await session.scalars(select(Case.id).order_by(Case.id)))
    return await session.get(Case, ids[pick % len(ids)]) if ids else None


async def act(world: World, kind: str, args: dict[str, Any]) -> None:
    domain = world.domain
    if kind == "advance":
        domain.clock.advance(hours=args["hours"])
        return
    if kind == "submit":
        user = next(world.users)
        origin, destination = args["corridor"].split("-")
        consents: dict[str, bool] = {"destination_help": True, "origin_help": True}
        if args["statistics"] is not None:
            consents["statistics"] = args["statistics"]
        report = wage_report(
            origin_country=origin,
            destination_country=destination,
            categories=args["categories"],
            consents=consents,
            workers_affected=args["workers"],
            wage_owed_minor=args["owed"],
            wage_currency="QAR" if destination == "QA" else "MYR",
            sector=args["sector"],
            gender=args["gender"],
        )
        async with domain.sessions() as session, session.begin():
            reporter = await cases.reporter_for(session, domain, user, user, "en")
            await cases.submit_report(session, domain, reporter, report)
        return
    async with domain.sessions() as session, session.begin():
        case = await pick_case(session, args["pick"])
        if case is None:
            return
        owner = await session.get(Person, case.owner_person_id) if case.owner_person_id else None
        reporter = await session.get(Reporter, case.reporter_id) if case.reporter_id else None
        if kind == "claim":
            card = await session.scalar(
                select(CaseCard).where(CaseCard.case_id == case.id, CaseCard.active.is_(True))
            )
            if card is None:
                return
            person = await session.scalar(
                select(Person)
                .where(Person.organisation_id == card.organisation_id, Person.active.is_(True))
                .order_by(Person.id)
            )
            await claims.claim(session, domain, case.id, person, card.chat_id)
        elif kind == "resolve" and owner is not None:
            recovered = args["outcome"] == "WAGES_RECOVERED"
            try:
                await resolution.resolve(
                    session,
                    domain,
                    case,
                    owner,
                    args["outcome"],
                    amount_minor=args["amount"] if recovered else None,
                    currency=(case.wage_currency or "QAR") if recovered else None,
                )
            except resolution.ResolutionError:
                pass
        elif kind == "reopen" and case.status == "resolved":
            await resolution.reopen(session, domain, case, await session.get(Person, "sita"))
        elif kind == "withdraw_statistics" and reporter is not None:
            await privacy.withdraw_consent(session, domain, reporter, case, "statistics")
        elif kind in ("grant_statistics", "refuse_statistics") and reporter is not None:
            answer = kind == "grant_statistics"
            await cases.record_consents(
                session, domain, reporter, case, {"statistics": answer}, "en"
            )
        elif kind == "refer" and owner is not None and case.status == "claimed":
            targets = await referral.referral_targets(session, case)
            if targets:
                await referral.refer(
                    session,
                    domain,
                    case,
                    owner,
                    targets[0],
                    "",
                    override_reason="test",
                    coordinator=True,
                )
        elif kind == "escalate":
            await events.record(session, domain, "escalated", case_id=case.id)
        elif kind == "forget" and reporter is not None:
            await privacy.forget_reporter(session, domain, reporter)
        elif kind == "withdraw" and case.status in ("routed", "claimed", "referred"):
            await resolution.withdraw(session, domain, case)


# --- What must hold -----------------------------------------------------------------------


async def stored(session: Any) -> tuple[dict, dict]:
    days = {
        (r.corridor, r.basis, r.day, r.measure, r.code): [r.cases, r.workers, r.amount]
        for r in await session.scalars(select(StatsDay))
        if r.cases or r.workers or r.amount
    }
    names = {
        (r.corridor, r.month, r.kind, r.key): r.cases
        for r in await session.scalars(select(StatsName))
        if r.cases
    }
    return days, names


async def recomputed(session: Any) -> tuple[dict, dict]:
    def work(sync: Any) -> tuple[dict, dict]:
        days: dict = {}
        names: dict = {}
        for corridor in rollups.corridors_with_cases(sync):
            d, n, _ = rollups.computed(sync, corridor)
            days.update({k: list(v) for k, v in d.items() if any(v)})
            names.update({k: v for k, v in n.items() if v})
        return days, names

    return await session.run_sync(work)


def diff(got: dict, want: dict) -> dict:
    return {
        k: (got.get(k), want.get(k)) for k in got.keys() | want.keys() if got.get(k) != want.get(k)
    }


async def check(domain: Domain) -> None:
    async with domain.sessions() as session:
        days, names = await stored(session)
        want_days, want_names = await recomputed(session)
        assert diff(days, want_days) == {} and diff(names, want_names) == {}
        # Directly from the cases: what /stats counts.
        all_cases = list(await session.scalars(select(Case)))
        expected: Counter[tuple] = Counter()
        for case in all_cases:
            expected[(case.corridor_code, case.created_at.date(), "new", "")] += 1
            if case.claimed_at:
                expected[(case.corridor_code, case.claimed_at.date(), "claimed", "")] += 1
            if case.resolved_at:
                key = (case.corridor_code, case.resolved_at.date(), "resolved")
                expected[(*key, case.outcome or "OTHER")] += 1
        got = Counter(
            {
                (k[0], k[2], k[3], k[4]): v[0]
                for k, v in days.items()
                if k[1] == "event" and k[3] in ("new", "claimed", "resolved")
            }
        )
        assert +got == +expected
        # The export's query (independent of rollups) for the consenting cohort.
        export = await anonymised_rows(
            session,
            start=dt.date(2026, 1, 1),
            end=dt.date(2027, 12, 31),
            corridor=None,
            audience="partner",
            k=1,
        )
        from_export: dict[tuple, list] = {}
        for row in export.rows:
            measure = {"total": "total", "category": "category", "outcome": "outcome"}
            code = "" if row.code == "ALL" else row.code
            key = (row.corridor, "cohort", dt.date.fromisoformat(row.month + "-01"))
            from_export[(*key, measure[row.dimension], code)] = [row.cases, row.workers_affected]
            if row.dimension == "total":
                for measure_name, amounts in (
                    ("owed", row.wages_owed),
                    ("recovered", row.wages_recovered),
                ):
                    for currency, value in amounts.items():
                        minor = int(value * (Decimal(10) ** 2))
                        from_export[(*key, measure_name, currency)] = [minor]
        from_rollups: dict[tuple, list] = {}
        for k, v in days.items():
            if k[1] != "cohort":
                continue
            if k[3] in ("total", "category", "outcome"):
                from_rollups[k] = v[:2]
            elif k[3] in ("owed", "recovered"):
                from_rollups[k] = [v[2]]
        assert from_rollups == from_export


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS)
def test_rollups_equal_direct_counts_after_any_case_changes(
    world: World, operations: list[tuple[str, dict[str, Any]]]
) -> None:
    for kind, args in operations:
        world.run(act(world, kind, args))
    world.run(check(world.domain))


def test_a_rolled_back_change_leaves_rollups_alone(world: World) -> None:
    async def scenario() -> None:
        domain = world.domain
        await act(world, "submit", {**BASE_SUBMIT})
        async with domain.sessions() as session:
            before = await stored(session)
        async with domain.sessions() as session:
            case = await pick_case(session, 10**9)
            case.outcome = "REPATRIATED"
            case.resolved_at = domain.now()
            await session.flush()
            await session.rollback()
        async with domain.sessions() as session:
            assert await stored(session) == before
        await check(domain)

    world.run(scenario())


def test_rebuild_restores_rows_lost_or_damaged(world: World) -> None:
    async def scenario() -> None:
        domain = world.domain
        for _ in range(3):
            await act(world, "submit", {**BASE_SUBMIT})
        async with domain.sessions() as session, session.begin():
            before = await stored(session)
            await session.execute(StatsDay.__table__.update().values(cases=StatsDay.cases + 7))
            await session.execute(StatsName.__table__.delete())
            await rollups.rebuild(session)
        async with domain.sessions() as session:
            assert await stored(session) == before
        await check(domain)

    world.run(scenario())


BASE_SUBMIT = {
    "corridor": "NP-QA",
    "categories": ["WAGE"],
    "statistics": True,
    "workers": 2,
    "owed": 1000,
    "sector": "SECTOR_F",
    "gender": "MAN",
}


def test_medians_from_bands_are_within_a_band() -> None:
    rng = random.Random(3)
    for _ in range(200):
        values = [
            rng.choice([30, 600, 3600]) * rng.random() * 100 for _ in range(rng.randint(1, 60))
        ]
        bands: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for value in values[1:]:
            entry = bands[rollups.band(value)]
            entry[0] += 1
            entry[1] += int(value)
        estimate = rollups.median_seconds({b: (n, s) for b, (n, s) in bands.items()}, values[:1])
        ordered = sorted(values)
        exact = (ordered[(len(values) - 1) // 2] + ordered[len(values) // 2]) / 2
        assert estimate is not None
        assert abs(estimate - exact) <= max(60, exact * (2 ** (1 / 8) - 1)) + 1
    assert rollups.median_seconds({}) is None


# --- /stats over long windows reads the rollups -------------------------------------------


async def test_long_stats_from_rollups_equal_direct_counts(
    domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.domain import digest

    world = World(asyncio.get_running_loop(), domain, iter(range(70_000, 80_000)))
    domain.clock.set(dt.datetime(2026, 2, 1, 7, 30, tzinfo=dt.UTC))
    rng = random.Random(5)
    for _ in range(70):
        await act(world, "submit", {**BASE_SUBMIT, "corridor": rng.choice(["NP-QA", "ID-MY"])})
        for kind in ("claim", "resolve", "escalate", "claim"):
            if rng.random() < 0.6:
                args = {"pick": rng.randrange(10**6), "outcome": "WAGES_RECOVERED", "amount": 7}
                await act(world, kind, args)
        domain.clock.advance(hours=rng.randint(1, 60))
    now = domain.now()
    for days in (40, 100, 365, 3660):
        since = now - dt.timedelta(days=days, minutes=17)
        async with domain.sessions() as session:
            rolled = await digest.collect(session, ["NP-QA", "ID-MY"], since, now, now)
        monkeypatch.setattr(digest, "ROLLUP_AFTER_DAYS", 10**6)
        async with domain.sessions() as session:
            direct = await digest.collect(session, ["NP-QA", "ID-MY"], since, now, now)
        monkeypatch.undo()
        assert direct.new > 0 and direct.claimed > 0 and direct.resolved
        for name in ("new", "claimed", "resolved", "escalations", "wages_owed", "wages_recovered"):
            assert getattr(rolled, name) == getattr(direct, name), name
        for name in ("median_claim_minutes", "median_resolution_hours"):
            exact, estimate = getattr(direct, name), getattr(rolled, name)
            assert abs(estimate - exact) <= exact * (2 ** (1 / 8) - 1) + 1, name
