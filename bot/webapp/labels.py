"""Every word the dashboard page shows, translated on the server into the viewer's
language (the page itself holds no text of its own)."""

from __future__ import annotations

from bot.i18n import N_, tr
from bot.taxonomy import CATEGORIES, OUTCOMES, STATUS_LABELS, URGENCY_LABELS

PAGE_LABELS = {
    "title": N_("Corridor dashboard"),
    "tab_board": N_("Board"),
    "tab_oncall": N_("On call"),
    "tab_trends": N_("Trends"),
    "tab_export": N_("Export"),
    "unclaimed": N_("Unclaimed cases"),
    "lt1h": N_("under 1 h"),
    "lt24h": N_("1–24 h"),
    "older": N_("over 24 h"),
    "by_status": N_("Cases by status"),
    "resolved_30d": N_("resolved in the last 30 days"),
    "overdue": N_("Overdue follow-ups"),
    "referrals": N_("Referrals waiting for the other side"),
    "undelivered": N_("Cards that could not be delivered"),
    "none": N_("None."),
    "more": N_("and {n} more"),
    "escalation_step": N_("escalation step {n}"),
    "back": N_("Back"),
    "timeline": N_("Timeline"),
    "where": N_("Where"),
    "status_label": N_("Status"),
    "reported": N_("Reported"),
    "show_details": N_("Show personal details"),
    "details_warning": N_("Opening the personal details is recorded in the audit trail."),
    "confirm_details": N_("Yes, show them"),
    "details_owner_only": N_(
        "Personal details are shown only to the responder who owns the case, as in the bot."
    ),
    "nudge": N_("Nudge"),
    "release": N_("Release to the queue"),
    "reassign": N_("Give to"),
    "choose_person": N_("Choose a responder"),
    "done": N_("Done."),
    "failed": N_("That did not work: {reason}"),
    "on_call_now": N_("On call now"),
    "this_week": N_("This week"),
    "overrides": N_("Overrides"),
    "away": N_("away"),
    "covering": N_("on call"),
    "set_override": N_("Set an override"),
    "person": N_("Person"),
    "from": N_("From"),
    "to": N_("To"),
    "nobody": N_("nobody"),
    "days_30": N_("30 days"),
    "days_90": N_("90 days"),
    "days_365": N_("365 days"),
    "new_vs_resolved": N_("New and resolved cases per day"),
    "new": N_("new"),
    "resolved": N_("resolved"),
    "categories": N_("Categories"),
    "outcomes": N_("Outcomes"),
    "wages_owed": N_("Wages reported owed"),
    "wages_recovered": N_("Wages recovered"),
    "median_claim": N_("Median time to claim"),
    "median_resolution": N_("Median time to resolution"),
    "no_data": N_("No cases in this period."),
    "export_intro": N_(
        "Anonymised statistics of your corridors: only cases with statistics consent, months not days, small cells suppressed."
    ),
    "download": N_("Download"),
    "corridor": N_("Corridor"),
    "all_corridors": N_("All my corridors"),
    "format": N_("Format"),
    "denied": N_("This page is for coordinators. Open it from the bot."),
    "error": N_("Something went wrong. Please try again."),
}

WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))

ACTION_RESULTS = {
    "not_open": N_("the case is not open any more"),
    "no_card": N_("that organisation has no card of this case"),
    "not_claimed": N_("nobody owns this case"),
    "not_allowed": N_("you cannot do this for that person"),
    "unchanged": N_("nothing to change"),
    "unknown": N_("unknown person or organisation"),
    "bad_dates": N_("the dates are not valid"),
}


def page_labels(language: str) -> dict[str, object]:
    labels: dict[str, object] = {key: tr(language, text) for key, text in PAGE_LABELS.items()}
    labels["weekdays"] = [tr(language, day) for day in WEEKDAYS]
    labels["urgency"] = {code: tr(language, text) for code, text in URGENCY_LABELS.items()}
    labels["status"] = {code.value: tr(language, text) for code, text in STATUS_LABELS.items()}
    labels["category"] = {code: tr(language, text) for code, text in CATEGORIES.items()}
    labels["outcome"] = {code: tr(language, text) for code, text in OUTCOMES.items()}
    return labels
