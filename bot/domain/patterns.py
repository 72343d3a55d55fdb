"""Pattern alerts: the same employer or recruitment agency named in several cases.

Reporters type names as they know them: "Al Noor Contracting W.L.L.", "al-noor contracting
wll", "AL NOOR CONTRACTING". Each name is reduced to a key (:func:`name_key`): accents,
case, punctuation and spacing go, as do legal-form suffixes (W.L.L., LLC, Pvt Ltd, Sdn
Bhd …) and a few prefixes (PT, M/s, The). Cases are then grouped by key in one pass, so a
period of many thousand cases costs one scan and a dictionary, never a comparison of
every pair. Matching is deliberately exact on the key: "Al Noor" and "Al Nour" stay apart
(a fuzzy match would merge different companies, and a wrong alert points responders at
the wrong employer).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Case

# Legal forms, removed from the end of a name (repeatedly: "co wll", "pvt ltd").
SUFFIXES = frozenset(
    {
        "wll",
        "llc",
        "llp",
        "ltd",
        "limited",
        "co",
        "company",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "plc",
        "pvt",
        "private",
        "pte",
        "sdn",
        "bhd",
        "tbk",
        "est",
        "establishment",
        "spc",
        "fze",
        "fzco",
        "fzc",
        "gmbh",
    }
)
# Removed from the start: Indonesian "PT", South Asian "M/s", English "the".
PREFIXES = frozenset({"pt", "ms", "the"})
# Answers that name nobody.
PLACEHOLDERS = frozenset(
    {
        "",
        "na",
        "none",
        "no",
        "nil",
        "unknown",
        "dontknow",
        "donotknow",
        "notknown",
        "notsure",
        "idontknow",
    }
)
_JOINERS = re.compile(r"[.'’`/]")  # W.L.L. → wll, M/s → ms, Noor's → noors


def _words(text: str) -> list[str]:
    """Lower-case words in any script. Accents on Latin letters go (é → e); the vowel signs
    of Devanagari, Bengali or Arabic are marks that belong to the word and stay."""
    chars: list[str] = []
    base_is_latin = False
    for ch in unicodedata.normalize("NFKD", text.casefold()):
        if unicodedata.category(ch).startswith("M"):
            if not base_is_latin:
                chars.append(ch)
            continue
        base_is_latin = ch.isascii()
        chars.append(ch if ch.isalnum() else " ")
    return "".join(chars).split()


def name_key(name: str | None) -> str | None:
    """The grouping key of an employer or agency name, or None if it names nobody."""
    if not name:
        return None
    text = _JOINERS.sub("", name.replace("&", " and "))
    tokens = [t for t in _words(text) if t != "and"]
    core = list(tokens)
    while core and core[0] in PREFIXES:
        core.pop(0)
    while core and core[-1] in SUFFIXES:
        core.pop()
    # A name that is nothing but a legal form ("Company") keeps its words.
    key = "".join(core or tokens)
    if key in PLACEHOLDERS:
        return None
    return key


@dataclass(frozen=True)
class Pattern:
    kind: str  # employer | agency
    name: str  # the most common spelling among the cases
    count: int  # distinct cases
    case_codes: list[str]  # oldest first
    spellings: int = 1  # how many different spellings were merged


async def repeated_names(
    session: AsyncSession,
    corridors: list[str],
    since: dt.datetime,
    until: dt.datetime,
    threshold: int = 3,
) -> list[Pattern]:
    """Employers and agencies named in at least ``threshold`` cases of ``corridors`` reported
    in [since, until), most cases first. Names are decrypted by the ORM and never stored
    elsewhere; the result is meant for coordinators, not for publication."""
    if threshold < 2:
        raise ValueError("a pattern needs a threshold of at least 2 cases")
    if not corridors:
        return []
    rows = await session.execute(
        select(Case.code, Case.employer, Case.agency)
        .where(
            Case.corridor_code.in_(corridors),
            Case.created_at >= since,
            Case.created_at < until,
            Case.erased.is_(False),
        )
        .order_by(Case.created_at, Case.id)
    )
    codes: dict[tuple[str, str], list[str]] = defaultdict(list)
    spellings: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for code, employer, agency in rows:
        for kind, name in (("employer", employer), ("agency", agency)):
            key = name_key(name)
            if key is None:
                continue
            group = (kind, key)
            codes[group].append(code)  # one employer and one agency per case: no repeats
            spellings[group][" ".join(name.split())] += 1
    found = []
    for group, case_codes in codes.items():
        if len(case_codes) < threshold:
            continue
        counter = spellings[group]
        # Most common spelling; among equals, the first one seen.
        name = max(counter, key=lambda s: counter[s])
        found.append(
            Pattern(
                kind=group[0],
                name=name,
                count=len(case_codes),
                case_codes=case_codes,
                spellings=len(counter),
            )
        )
    found.sort(key=lambda p: (-p.count, p.kind, p.name.casefold()))
    return found
