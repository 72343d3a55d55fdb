"""Stable codes from shared/TAXONOMY.md. Store the code, translate the label."""

from __future__ import annotations

from enum import StrEnum

from bot.i18n import N_

# Plain words a frightened reporter recognises, not the ILO indicator names.
CATEGORIES: dict[str, str] = {
    "WAGE": N_("Not paid or paid less"),
    "DOCS": N_("Passport or ID taken"),
    "DEBT": N_("Recruitment fees or debt"),
    "DECV": N_("Different job than promised"),
    "MOVE": N_("Locked in or phone taken"),
    "THRT": N_("Threats"),
    "PHYS": N_("Beaten or hurt"),
    "SEXV": N_("Sexual violence or harassment"),
    "HOUR": N_("Too many hours, no rest day"),
    "COND": N_("No food or unsafe housing"),
    "HLTH": N_("Injured, sick or no medical care"),
    "DETN": N_("Arrested or detained"),
    "CONS": N_("Stranded, wants to go home"),
    "MISS": N_("Missing: family cannot reach them"),
    "OTHR": N_("Something else"),
}
CATEGORY_CODES = frozenset(CATEGORIES)

# Mapping kept for exports so they can be joined with ILO / HTCDS datasets.
HTCDS = {
    "WAGE": "TakesEarnings",
    "DOCS": "WithholdsDocuments",
    "DEBT": "DebtBondage",
    "DECV": "FalsePromises",
    "MOVE": "RestrictsMovement",
    "THRT": "Threats;ThreatOfLawEnforcement",
    "PHYS": "PhysicalAbuse",
    "SEXV": "SexualAbuse",
    "HOUR": "ExcessiveWorkingHours",
    "COND": "WithholdsNecessities",
    "HLTH": "RestrictsMedicalCare",
}

# Migrant Workers Convention (ICRMW) articles each category documents (TAXONOMY.md). A case
# is counted once per article, however many of its categories point there.
ICRMW_ARTICLES: dict[str, tuple[str, ...]] = {
    "WAGE": ("25",),
    "DOCS": ("21",),
    "MOVE": ("16",),
    "THRT": ("16",),
    "PHYS": ("10", "16"),
    "SEXV": ("10",),
    "HOUR": ("25",),
    "COND": ("25",),
    "HLTH": ("28",),
    "DETN": ("16", "22"),
    "CONS": ("23",),
}
ARTICLE_TITLES: dict[str, str] = {
    "10": N_("No torture or cruel, inhuman or degrading treatment"),
    "16": N_(
        "Liberty and security of person; protection against violence, threats and arbitrary arrest"
    ),
    "21": N_("No confiscation or destruction of identity documents, passports or permits"),
    "22": N_("No collective expulsion; due process in expulsion"),
    "23": N_("Recourse to consular or diplomatic protection"),
    "25": N_("Treatment not less favourable than nationals in remuneration and conditions of work"),
    "28": N_("Emergency medical care"),
}

# ILO indicators of forced labour each category documents. "Restriction of movement" and
# "isolation" are two indicators that one category (MOVE) records together.
ILO_INDICATORS: dict[str, tuple[str, ...]] = {
    "WAGE": ("WITHHOLDING_OF_WAGES",),
    "DOCS": ("RETENTION_OF_DOCUMENTS",),
    "DEBT": ("DEBT_BONDAGE",),
    "DECV": ("DECEPTION",),
    "MOVE": ("RESTRICTION_OF_MOVEMENT", "ISOLATION"),
    "THRT": ("INTIMIDATION_AND_THREATS",),
    "PHYS": ("PHYSICAL_AND_SEXUAL_VIOLENCE",),
    "SEXV": ("PHYSICAL_AND_SEXUAL_VIOLENCE",),
    "HOUR": ("EXCESSIVE_OVERTIME",),
    "COND": ("ABUSIVE_CONDITIONS",),
}
ILO_LABELS: dict[str, str] = {
    "WITHHOLDING_OF_WAGES": N_("Withholding of wages"),
    "RETENTION_OF_DOCUMENTS": N_("Retention of identity documents"),
    "DEBT_BONDAGE": N_("Debt bondage"),
    "DECEPTION": N_("Deception"),
    "RESTRICTION_OF_MOVEMENT": N_("Restriction of movement"),
    "ISOLATION": N_("Isolation"),
    "INTIMIDATION_AND_THREATS": N_("Intimidation and threats"),
    "PHYSICAL_AND_SEXUAL_VIOLENCE": N_("Physical and sexual violence"),
    "EXCESSIVE_OVERTIME": N_("Excessive overtime"),
    "ABUSIVE_CONDITIONS": N_("Abusive working and living conditions"),
}


def articles_of(categories: list[str] | tuple[str, ...]) -> set[str]:
    return {a for c in categories for a in ICRMW_ARTICLES.get(c, ())}


def indicators_of(categories: list[str] | tuple[str, ...]) -> set[str]:
    return {i for c in categories for i in ILO_INDICATORS.get(c, ())}


# Optional intake facts (TAXONOMY.md, "Optional intake facts"): both skippable, counted only
# in anonymised aggregates under the same suppression, never shown on cards, summaries or
# digests. Sector codes are ISIC Rev. 4 sections, in plain words.
SECTORS: dict[str, str] = {
    "SECTOR_T": N_("Domestic work"),
    "SECTOR_F": N_("Construction"),
    "SECTOR_C": N_("Factory or manufacturing"),
    "SECTOR_A": N_("Farm or fishing"),
    "SECTOR_I": N_("Hotel or restaurant"),
    "SECTOR_Q": N_("Care or health work"),
    "SECTOR_H": N_("Driving or transport"),
    "SECTOR_N": N_("Security or cleaning"),
    "SECTOR_OTHER": N_("Other work"),
}
GENDERS: dict[str, str] = {
    "WOMAN": N_("Woman"),
    "MAN": N_("Man"),
    "ANOTHER": N_("Another gender"),
    "UNSAID": N_("Prefer not to say"),
}
NOT_GIVEN = "UNKNOWN"  # in aggregates: the question was skipped or not asked

OUTCOMES: dict[str, str] = {
    "WAGES_RECOVERED": N_("Wages recovered"),
    "REPATRIATED": N_("Returned home"),
    "RESCUED_OR_SHELTERED": N_("Rescued or sheltered"),
    "DOCUMENTS_RETURNED": N_("Documents returned"),
    "RELEASED_FROM_DETENTION": N_("Released from detention"),
    "REFERRED_TO_AUTHORITY": N_("Referred to an authority"),
    "LEGAL_CASE_FILED": N_("Legal case filed"),
    "MEDICAL_CARE_ARRANGED": N_("Medical care arranged"),
    "REUNITED_OR_LOCATED": N_("Located or reunited"),
    "UNABLE_TO_CONTACT": N_("Unable to contact"),
    "WITHDRAWN_BY_REPORTER": N_("Withdrawn by reporter"),
    "OTHER": N_("Other outcome"),
}


class Urgency(StrEnum):
    SOS = "sos"
    HIGH = "high"
    NORMAL = "normal"


URGENCY_RANK = {Urgency.NORMAL: 0, Urgency.HIGH: 1, Urgency.SOS: 2}
URGENCY_LABELS = {
    Urgency.SOS: N_("SOS"),
    Urgency.HIGH: N_("High"),
    Urgency.NORMAL: N_("Normal"),
}


class ConsentPurpose(StrEnum):
    DESTINATION_HELP = "destination_help"
    ORIGIN_HELP = "origin_help"
    STATISTICS = "statistics"


# Version 2: the statistics text explains the optional sector and gender questions.
CONSENT_VERSION = 2
# What a receiving organisation is, said to a reporter asked to consent to a referral.
ORGANISATION_KINDS = {
    "ngo": N_("an organisation that helps migrant workers in {country}"),
    "shelter": N_("a shelter in {country}"),
    "union": N_("a migrant workers' union in {country}"),
    "legal": N_("a legal aid office in {country}"),
    "embassy": N_("an embassy desk in {country}"),
    "nhri": N_("a human rights commission in {country}"),
}
# Why a referral to a side helps, in the words a reporter is asked in.
REFERRAL_REASONS = {
    "origin": N_(
        "They are near your home: they can meet the worker on return and stay in touch with the family."
    ),
    "destination": N_(
        "They are in the country where the worker is: they can act there, with the employer, the authorities or the embassy."
    ),
}

CONSENT_TEXTS = {
    ConsentPurpose.DESTINATION_HELP: N_(
        "Share my report with trusted helpers in the country where I work, so they can help me."
    ),
    ConsentPurpose.ORIGIN_HELP: N_(
        "Share my report with trusted helpers in my home country (for example when I return)."
    ),
    ConsentPurpose.STATISTICS: N_(
        "Count my case in anonymous statistics (no names, no contacts) used to push for change. "
        "If you tell us your kind of work or your gender, they are only counted together with "
        "many other cases, never shown on their own."
    ),
}


class CaseStatus(StrEnum):
    NEW = "new"
    ROUTED = "routed"
    CLAIMED = "claimed"
    REFERRED = "referred"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATUSES = (CaseStatus.NEW, CaseStatus.ROUTED, CaseStatus.CLAIMED, CaseStatus.REFERRED)
UNCLAIMED_STATUSES = (CaseStatus.ROUTED, CaseStatus.REFERRED)

STATUS_LABELS = {
    CaseStatus.NEW: N_("received"),
    CaseStatus.ROUTED: N_("waiting for a helper"),
    CaseStatus.CLAIMED: N_("a helper is working on it"),
    CaseStatus.REFERRED: N_("passed to another organisation"),
    CaseStatus.RESOLVED: N_("resolved"),
    CaseStatus.CLOSED: N_("closed"),
}

REPORTER_ROLES = {
    "self": N_("I am the worker"),
    "family": N_("Family member"),
    "advocate": N_("Advocate or organisation"),
}

SINCE_LABELS = {
    "days": N_("A few days"),
    "weeks": N_("A few weeks"),
    "months": N_("Months"),
    "year": N_("More than a year"),
}
CONTACT_LABELS = {
    "chat": N_("Here in this chat"),
    "phone": N_("By phone"),
    "family": N_("Through my family"),
}


# Fields a saved reply may ask its sender for; ``code`` (the case code) is filled in by itself.
SAVED_REPLY_FIELDS = ("organisation", "office", "phone", "flight", "arrival", "date")
# The reviewed saved replies every organisation has (texts in bot/domain/saved_replies.py).
SAVED_REPLY_CODES = (
    "ACK",
    "DOCS",
    "COPIES",
    "NOSIGN",
    "EMBASSY",
    "LABOUR",
    "PICKUP",
    "REFERRAL",
    "CHECKIN",
    "CLOSING",
    "SAFETY",
    "NOFEE",
    "WORKING",
    "CALL",
    "PHONE",
    "MEDICAL",
    "WAGES",
)

# Why triage chose an urgency (Triage.reason holds these codes, never the reporter's words).
TRIAGE_REASONS = {
    "sos": N_("SOS button"),
    "danger_now": N_("in danger now"),
}
RED_FLAG_LABELS = {
    "threat_to_life": N_("threat to life"),
    "violence": N_("violence"),
    "confinement": N_("locked in"),
    "detention": N_("police or detention"),
    "medical": N_("medical emergency"),
    "no_food": N_("no food or water"),
}

# Answers of the missing-person report kept in Case.details, and how to show them.
LAST_CONTACT_LABELS = {
    "week": N_("In the last week"),
    "month": N_("1–4 weeks ago"),
    "half": N_("1–6 months ago"),
    "older": N_("More than 6 months ago"),
}
DETAIL_LABELS = {
    "last_contact": N_("Last heard from"),
    "phones_tried": N_("Phones tried"),
}
