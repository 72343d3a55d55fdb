"""`corridor demo` tells one story in the order things happen: the narrator's steps on
the fake clock, who wrote what, who tapped which button and what they saw, the bot's
messages and edits in every chat, all interleaved; its export publishes some cells."""

from __future__ import annotations

import re
from pathlib import Path

from bot.cli import main


def test_the_demo_story_is_interleaved_and_in_time_order(capsys, tmp_path: Path) -> None:
    keep = tmp_path / "kept"
    assert main(["demo", "--keep", str(keep)]) == 0
    out, err = capsys.readouterr()
    story = out.splitlines()
    assert (keep / "story.txt").read_text().splitlines() == out.lstrip("\n").splitlines()

    def first(pattern: str, after: int = 0) -> int:
        for number, line in enumerate(story[after:], after):
            if re.search(pattern, line):
                return number
        raise AssertionError(f"no line matching {pattern!r} after line {after}")

    # Hari's report: his messages, his taps, the bot's answers, then the card in the group.
    start = first(r"▶ \[day 1, 06:00 UTC\] Hari, a Nepali construction worker")
    assert story[first(r"👤 Hari: /start", start) + 1].startswith("  🤖 → Hari: ")
    tap = first(r"👆 Hari taps \[", start)
    submitted = first(r"👆 Hari taps \[📨", tap)
    card = first(r"🤖 → DMWC responders: .*QA-", submitted)
    # The race for the claim: both taps, what each saw, the private details, the card edited.
    race = first(r"▶ .*tap Claim at the same moment", card)
    taps = [first(r"👆 Ramesh taps \[✋ Claim\] in DMWC responders", race)]
    taps.append(first(r"👆 Aisha taps \[✋ Claim\] in DMWC responders", race))
    seen = [first(r"↳ (Ramesh|Aisha) sees “You own case", race)]
    seen.append(first(r"↳ (Ramesh|Aisha) sees “Already claimed by", race))
    details = first(r"🤖 → (Ramesh|Aisha): 📁 Case QA-", race)
    edited = first(r"✎ 🤖 edits its message in DMWC responders: .*helper is working", race)
    following = first(r"▶ .*Hari writes again", race)
    assert max(taps) < min(seen) and max(seen) < details < following and edited < following

    # Time moves forward only, and the three days show as a new moment.
    moments = [
        tuple(map(int, m.groups()))
        for m in (re.search(r"day (\d+), (\d\d):(\d\d) UTC", line) for line in story)
        if m
    ]
    assert moments == sorted(moments) and moments[-1][0] >= 4
    assert any(line.strip() == "─── day 4, 15:00 UTC" for line in story)

    # The export at the end: some cells large enough to publish.
    export = first(r"🤖 → Sita: \[document corridor-NP-QA-.*\.csv\]")
    published = re.search(r"\((\d+) cells: (\d+) published, (\d+) suppressed\)", story[export + 1])
    assert published and int(published.group(2)) > 0 and int(published.group(3)) > 0
    assert "2026-02 NP-QA category=WAGE: 14 cases" in out
    assert re.search(r"the partner export has [1-9]\d* cells published", err)
    # And the kept files: every chat's transcript and the export itself.
    assert (keep / "transcript-DMWC_responders.txt").exists()
    assert list(keep.glob("*corridor-NP-QA-*.csv"))
