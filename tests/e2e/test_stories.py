"""The guided stories beyond the demo's run: each plays on its own, and a story that
continues another brings the earlier one along."""

from __future__ import annotations

from sqlalchemy import select

from corridor_dev.harness import Harness
from corridor_dev.sandbox.guide import plan
from corridor_dev.stories import DEMO, STORIES, Cast, play, story
from models import Case


def test_every_story_is_offered_and_the_demo_tells_a_subset() -> None:
    keys = [s.key for s in STORIES]
    assert len(keys) == len(set(keys))
    assert {s.key for s in DEMO} <= set(keys)
    for each in STORIES:
        assert all(required in keys for required in each.requires)


def test_a_continuation_brings_the_story_it_continues_unless_it_was_played() -> None:
    fresh = plan("airport-referral", done=set())
    assert fresh[0].story.key == "worker-report"
    assert {p.story.key for p in fresh} == {"worker-report", "airport-referral"}
    after = plan("airport-referral", done={"worker-report"})
    assert {p.story.key for p in after} == {"airport-referral"}


async def test_the_family_report_plays_on_its_own(harness: Harness) -> None:
    cast = await Cast.gather(harness)
    await play(cast, (story("family-report"),))
    code = cast.facts["family_code"]
    async with harness.app.domain.sessions() as session:
        case = await session.scalar(select(Case).where(Case.code == code))
    assert case is not None
    assert case.reporter_role == "family" and case.corridor_code == "ID-MY"
    assert case.status == "claimed" and case.owner_organisation_id == "id-migrant-union"
    assert "Mega Jaya" not in "".join(await harness.bot_texts(harness.groups["id-migrant-union"]))


async def test_the_stories_play_one_after_another(harness: Harness) -> None:
    """Every story in the order the sandbox offers them, as "Play all" would, in one world."""
    cast = await Cast.gather(harness)
    await play(cast, STORIES)
    async with harness.app.domain.sessions() as session:
        statuses = {
            row.code: row.status for row in await session.execute(select(Case.code, Case.status))
        }
    assert statuses[cast.facts["code"]] == "resolved"  # the wage case, after the referral
    assert statuses[cast.facts["sos_code"]] == "claimed"  # by Budi, after the escalation
    assert statuses[cast.facts["family_code"]] == "claimed"
    assert statuses[cast.facts["missing_code"]] == "routed"
    assert cast.facts["owner"] in ("ramesh", "aisha")
