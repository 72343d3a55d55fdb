"""Urgency from the answers and from red-flag words in every shipped language.

The reason is stored as flag names, never the reporter's words, so it can be shown to
responders without leaking free text."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.taxonomy import Urgency

# flag → words, per language. Life-threatening flags make a case SOS on their own.
RED_FLAGS: dict[str, dict[str, tuple[str, ...]]] = {
    "threat_to_life": {
        "en": ("kill me", "will kill", "suicide", "going to die", "kill myself", "want to die"),
        "ne": ("मार्छ", "मारिदिन्छ", "आत्महत्या", "मर्छु", "मार्ने"),
        "bn": ("মেরে ফেলবে", "আত্মহত্যা", "মরে যাব", "খুন"),
        "id": ("bunuh", "bunuh diri", "mau mati", "akan mati"),
        "fil": ("papatayin", "magpakamatay", "mamamatay", "patayin"),
        "hi": ("मार डालेगा", "मार देंगे", "आत्महत्या", "मर जाऊंगा", "मर जाऊँगी"),
        "ar": ("سيقتلني", "يقتلني", "انتحار", "سأموت", "أقتل نفسي", "أريد أن أموت"),
        "ms": ("bunuh saya", "akan bunuh", "bunuh diri", "nak mati", "akan mati"),
        "ur": ("مار ڈالے گا", "قتل کر دے گا", "خودکشی", "مر جاؤں گا", "مر جاؤں گی", "جان سے مار"),
    },
    "violence": {
        "en": ("beat", "beaten", "hit me", "hurt me", "rape", "raped", "blood", "abuse"),
        "ne": ("कुट", "बलात्कार", "रगत", "हिंसा"),
        "bn": ("মারধর", "মারে", "ধর্ষণ", "রক্ত", "নির্যাতন"),
        "id": ("pukul", "dipukul", "perkosa", "diperkosa", "darah", "disiksa", "kekerasan"),
        "fil": ("bugbog", "binugbog", "ginahasa", "sinaktan", "dugo", "sinasaktan"),
        "hi": ("मारपीट", "पीटा", "बलात्कार", "खून", "हिंसा"),
        "ar": ("ضرب", "ضربني", "اغتصاب", "اغتصبني", "دم", "تعذيب", "عنف"),
        "ms": ("pukul", "dipukul", "rogol", "dirogol", "darah", "dianiaya", "didera"),
        "ur": ("مارا", "مارپیٹ", "زیادتی", "ریپ", "خون", "تشدد"),
    },
    "confinement": {
        "en": ("locked", "locked in", "not allowed out", "took my phone", "trapped"),
        "ne": ("थुन", "बन्द गरे", "बाहिर जान दिँदैन", "फोन खोस"),
        "bn": ("আটকে", "তালা", "বের হতে দেয় না", "ফোন কেড়ে"),
        "id": ("dikurung", "dikunci", "tidak boleh keluar", "hp diambil", "disekap"),
        "fil": (
            "ikinulong",
            "nakakulong",
            "nakakandado",
            "hindi makalabas",
            "kinuha ang cellphone",
        ),
        "hi": ("बंद कर", "कैद", "बाहर नहीं जाने", "फोन छीन"),
        "ar": ("محبوس", "حبسني", "مقفل علي", "لا يسمح لي بالخروج", "أخذ هاتفي"),
        "ms": ("dikurung", "dikunci", "tak boleh keluar", "tidak boleh keluar", "telefon diambil"),
        "ur": ("بند کر", "قید", "باہر نہیں جانے", "فون چھین"),
    },
    "detention": {
        "en": ("police", "jail", "prison", "arrested", "deport"),
        "ne": ("प्रहरी", "पुलिस", "जेल", "पक्राउ"),
        "bn": ("পুলিশ", "জেল", "গ্রেফতার", "কারাগার"),
        "id": ("polisi", "penjara", "ditangkap", "deportasi", "tahanan"),
        "fil": ("pulis", "kulungan", "inaresto", "hinuli", "ipapadeport"),
        "hi": ("पुलिस", "जेल", "गिरफ्तार", "हिरासत"),
        "ar": ("الشرطة", "سجن", "قبض علي", "ترحيل", "احتجاز"),
        "ms": ("polis", "penjara", "ditangkap", "dihantar pulang", "tahanan"),
        "ur": ("پولیس", "جیل", "گرفتار", "ڈی پورٹ", "حراست"),
    },
    "medical": {
        "en": ("hospital", "bleeding", "unconscious", "very sick", "injured", "pregnant"),
        "ne": ("अस्पताल", "बेहोस", "बिरामी", "घाइते", "गर्भवती"),
        "bn": ("হাসপাতাল", "অজ্ঞান", "অসুস্থ", "আহত", "গর্ভবতী"),
        "id": ("rumah sakit", "pingsan", "sakit parah", "terluka", "hamil"),
        "fil": ("ospital", "nawalan ng malay", "malubha", "nasugatan", "buntis"),
        "hi": ("अस्पताल", "बेहोश", "बीमार", "घायल", "गर्भवती"),
        "ar": ("مستشفى", "ينزف", "فاقد الوعي", "مريض جدا", "مصاب", "حامل"),
        "ms": ("hospital", "berdarah", "pengsan", "sakit teruk", "cedera", "mengandung"),
        "ur": ("ہسپتال", "بے ہوش", "بیمار", "زخمی", "حاملہ"),
    },
    "no_food": {
        "en": ("no food", "hungry", "no water", "starving"),
        "ne": ("खाना छैन", "भोक", "पानी छैन"),
        "bn": ("খাবার নেই", "ক্ষুধার্ত", "পানি নেই"),
        "id": ("tidak ada makanan", "kelaparan", "tidak dikasih makan", "tidak ada air"),
        "fil": ("walang pagkain", "gutom", "walang tubig"),
        "hi": ("खाना नहीं", "भूखा", "पानी नहीं"),
        "ar": ("لا يوجد طعام", "جائع", "لا يوجد ماء", "جوعان"),
        "ms": ("tiada makanan", "lapar", "tiada air", "kebuluran"),
        "ur": ("کھانا نہیں", "بھوکا", "پانی نہیں"),
    },
}
LIFE_THREATENING = {"threat_to_life"}
URGENT_CATEGORIES = {"PHYS", "SEXV", "MOVE", "DETN", "HLTH", "MISS"}


def _normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def red_flags(text: str | None) -> set[str]:
    """Flags found in any language: a worker may write in a language other than the UI's."""
    if not text:
        return set()
    haystack = _normalise(text)
    found = set()
    for flag, by_language in RED_FLAGS.items():
        for words in by_language.values():
            for word in words:
                needle = _normalise(word)
                # Latin-script words match on word starts so "beat" finds "beaten" but not
                # "unbeatable"; other scripts have no reliable word boundary in \b.
                if needle.isascii():
                    if re.search(r"(?<!\w)" + re.escape(needle), haystack):
                        found.add(flag)
                        break
                elif needle in haystack:
                    found.add(flag)
                    break
            if flag in found:
                break
    return found


@dataclass(frozen=True)
class Triage:
    urgency: Urgency
    reason: str


def triage(
    *, categories: list[str], in_danger: bool, description: str | None, sos: bool = False
) -> Triage:
    flags = red_flags(description)
    reasons = []
    if sos:
        reasons.append("sos")
    if in_danger:
        reasons.append("danger_now")
    urgent = sorted(set(categories) & URGENT_CATEGORIES)
    if urgent:
        reasons.append("categories:" + ",".join(urgent))
    if flags:
        reasons.append("flags:" + ",".join(sorted(flags)))
    if sos or flags & LIFE_THREATENING or (in_danger and urgent):
        urgency = Urgency.SOS
    elif in_danger or urgent or flags:
        urgency = Urgency.HIGH
    else:
        urgency = Urgency.NORMAL
    return Triage(urgency, "; ".join(reasons) or "none")
