"""Employer and agency names reduced to a comparable key, and that key's keyed fingerprint.

Reporters type names as they know them: "Al Noor Contracting W.L.L.", "al-noor contracting
wll", "AL NOOR CONTRACTING". Each name is reduced to a key (:func:`name_key`): accents,
case, punctuation and spacing go, as do legal-form suffixes (W.L.L., LLC, Pvt Ltd, Sdn
Bhd …) and a few prefixes (PT, M/s, The). Matching is deliberately exact on the key: "Al
Noor" and "Al Nour" stay apart (a fuzzy match would merge different companies, and a wrong
alert points responders at the wrong employer).

The names themselves are encrypted at rest. What the database keeps beside them is
:func:`name_fingerprint`, a keyed hash of the key, so pattern alerts can group a month of
cases in SQL without decrypting a single name; without the hash key it reveals only that
two cases name the same company, never which.
"""

from __future__ import annotations

import re
import unicodedata

from bot import crypto

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


def name_fingerprint(name: str | None) -> str | None:
    key = name_key(name)
    return None if key is None else crypto.active().pseudonym("org-name", key)


# Set by migration 0002 on names stored before fingerprints existed: the migration cannot
# read them (it has no keys), so the first digest to look computes the fingerprint.
UNKEYED = "?"


def stored_fingerprint(name: str | None) -> str | None:
    """None when no name was given; "" when the answer names nobody ("don't know")."""
    if name is None:
        return None
    return name_fingerprint(name) or ""
