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


CONSENT_VERSION = 1
CONSENT_TEXTS = {
    ConsentPurpose.DESTINATION_HELP: N_(
        "Share my report with trusted helpers in the country where I work, so they can help me."
    ),
    ConsentPurpose.ORIGIN_HELP: N_(
        "Share my report with trusted helpers in my home country (for example when I return)."
    ),
    ConsentPurpose.STATISTICS: N_(
        "Count my case in anonymous statistics (no names, no contacts) used to push for change."
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
