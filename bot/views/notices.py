"""What the outbox carries: each notice of ``bot.domain.notices`` as text and buttons in the
reader's language. Keyboards are built from the ``CallbackData`` of ``bot.views.buttons``,
so a button tapped on any of these messages matches its handler's filter."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from aiogram.types import InlineKeyboardMarkup, WebAppInfo
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import labels
from bot.domain.notices import (
    BackupPing,
    Card,
    CardUndeliverableAlert,
    CardWithdrawn,
    CaseClaimed,
    CaseDetails,
    CasePassedOn,
    CaseReassignedAway,
    CaseWithdrawn,
    ConsentRequest,
    ConsentWithdrawn,
    DashboardLink,
    Digest,
    DigestChart,
    DraftReminder,
    DrillReport,
    DrillReporterReply,
    FeedbackRequest,
    NewCasePing,
    Notice,
    NudgePing,
    OwnerLostAlert,
    QuietCase,
    ReferralSettled,
    ReferredCaseClaimed,
    RenderedNotice,
    ReporterChanged,
    ReporterErased,
    ReporterMediaTag,
    ReporterMessageHeading,
    ReporterNotSafe,
    ReporterNotSafeAlert,
    ReporterSilent,
    ReporterSilentAlert,
    ReportersWords,
    ReporterUnreachable,
    ResponderMessageHeading,
    SafetyCheck,
    UnclaimedAlert,
    UnroutedAlert,
    UntranslatedMessage,
    WorkerJoined,
)
from bot.domain.places import country_name
from bot.domain.recipients import REASONS as UNDELIVERABLE_REASONS
from bot.i18n import N_, ntr, tr
from bot.taxonomy import CONTACT_LABELS, ORGANISATION_KINDS, OUTCOMES, REFERRAL_REASONS
from bot.views import digest as digest_views
from bot.views.buttons import CheckIn, ConsentAnswer, Feedback, Snooze
from bot.views.cards import card_keyboard, card_text
from bot.views.details import details_text
from models import Case, Organisation


def _json(markup: InlineKeyboardMarkup | None) -> dict[str, Any] | None:
    """The keyboard as the outbox row stores it (and the Bot API takes it)."""
    return None if markup is None else markup.model_dump(mode="json", exclude_none=True)


def checkin_keyboard(case: Case, language: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for answer, label in (
        ("safe", tr(language, "🙂 I am safe")),
        ("unsafe", tr(language, "⚠️ Not safe")),
        ("changed", tr(language, "Something changed")),
    ):
        builder.button(text=label, callback_data=CheckIn(case_id=case.id, answer=answer).pack())
    return builder.adjust(2, 1).as_markup()


def snooze_keyboard(case: Case, language: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=tr(language, "Snooze 1 day"), callback_data=Snooze(case_id=case.id, hours=24).pack()
    )
    builder.button(
        text=tr(language, "Snooze 3 days"), callback_data=Snooze(case_id=case.id, hours=72).pack()
    )
    return builder.adjust(2).as_markup()


def consent_keyboard(case: Case, purpose: str, language: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for granted, label in ((1, tr(language, "Yes")), (0, tr(language, "No"))):
        builder.button(
            text=label,
            callback_data=ConsentAnswer(case_id=case.id, purpose=purpose, granted=granted).pack(),
        )
    return builder.adjust(2).as_markup()


def feedback_keyboard(case: Case) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for score in range(1, 6):
        builder.button(text=str(score), callback_data=Feedback(case_id=case.id, score=score).pack())
    return builder.adjust(5).as_markup()


def dashboard_keyboard(url: str, language: str) -> InlineKeyboardMarkup:
    """Opens the dashboard (Telegram allows a web app button in private chats only)."""
    builder = InlineKeyboardBuilder()
    builder.button(text=tr(language, "📋 Open the dashboard"), web_app=WebAppInfo(url=url))
    return builder.as_markup()


def consent_question(case: Case, receiver: Organisation, language: str) -> str:
    """Who would receive the case, and why."""
    kind = ORGANISATION_KINDS.get(receiver.kind, ORGANISATION_KINDS["ngo"])
    return (
        tr(
            language,
            "Your helper wants to pass case {code} to {receiver}.",
            code=case.code,
            receiver=tr(language, kind, country=country_name(receiver.country, language)),
        )
        + "\n"
        + tr(language, REFERRAL_REASONS[receiver.side])
        + "\n\n"
        + tr(language, "May we share your report with them?")
    )


def unreachable_text(case: Case, language: str) -> str:
    """For the owner only: it may hold the reporter's phone number."""
    return (
        tr(
            language,
            "⚠️ The reporter of case <b>{code}</b> cannot be reached through the bot any more "
            "(they blocked it or deleted the chat). Messages to them are not delivered.",
            code=case.code,
        )
        + "\n"
        + other_routes(case, language)
    )


def other_routes(case: Case, language: str) -> str:
    if case.contact_method == "chat" and not case.contact_phone:
        return tr(language, "They gave no other way to reach them.")
    method = tr(language, CONTACT_LABELS.get(case.contact_method, case.contact_method))
    return tr(
        language,
        "Other ways they gave: {method} {phone}",
        method=method,
        phone=html.escape(case.contact_phone or ""),
    ).strip()


def _card(notice: Card, language: str) -> RenderedNotice:
    text = card_text(
        notice.case,
        language,
        notice.now,
        owner_name=notice.owner_name,
        owner_org=notice.owner_org,
        note=notice.note,
        note_values=dict(notice.note_values or {}),
    )
    return RenderedNotice(text, _json(card_keyboard(notice.case, language)), parse_mode="HTML")


def _card_withdrawn(notice: CardWithdrawn, language: str) -> RenderedNotice:
    return RenderedNotice(
        tr(language, "Case {code}: withdrawn by the reporter.", code=notice.case.code)
    )


def _safety_check(notice: SafetyCheck, language: str) -> RenderedNotice:
    text = tr(
        language,
        "Checking in about your case {code}. Are you safe? Has anything changed?",
        code=notice.case.code,
    )
    return RenderedNotice(text, _json(checkin_keyboard(notice.case, language)))


def _quiet_case(notice: QuietCase, language: str) -> RenderedNotice:
    text = tr(
        language,
        "⏰ Case {code} has been quiet for a while. Any news? /case {code} · /resolve {code}",
        code=notice.case.code,
    )
    return RenderedNotice(text, _json(snooze_keyboard(notice.case, language)))


def _consent_request(notice: ConsentRequest, language: str) -> RenderedNotice:
    return RenderedNotice(
        consent_question(notice.case, notice.receiver, language),
        _json(consent_keyboard(notice.case, notice.purpose, language)),
    )


def _feedback_request(notice: FeedbackRequest, language: str) -> RenderedNotice:
    case = notice.case
    text = tr(
        language,
        "Your case {code} is now resolved: {outcome}.\nHow did we do? 1 = bad, 5 = very good.",
        code=case.code,
        outcome=tr(language, OUTCOMES[case.outcome]),
    )
    return RenderedNotice(text, _json(feedback_keyboard(case)))


def _dashboard_link(notice: DashboardLink, language: str) -> RenderedNotice:
    return RenderedNotice(None, _json(dashboard_keyboard(notice.url, language)))


def _ping(msgid: str) -> Callable[[Any, str], RenderedNotice]:
    def render(notice: NewCasePing | BackupPing | NudgePing, language: str) -> RenderedNotice:
        case = notice.case
        return RenderedNotice(
            tr(
                language,
                msgid,
                code=case.code,
                urgency=labels.urgency(case.urgency, language),
                corridor=case.corridor_code,
            )
        )

    return render


def _about_case(msgid: str) -> Callable[[Any, str], RenderedNotice]:
    """A plain text that names only the case."""

    def render(notice: Any, language: str) -> RenderedNotice:
        return RenderedNotice(tr(language, msgid, code=notice.case.code))

    return render


def _reporter_unreachable(notice: ReporterUnreachable, language: str) -> RenderedNotice:
    return RenderedNotice(unreachable_text(notice.case, language), parse_mode="HTML")


def _to_organisation(msgid: str) -> Callable[[Any, str], RenderedNotice]:
    """A plain text naming the case and an organisation."""

    def render(notice: Any, language: str) -> RenderedNotice:
        return RenderedNotice(tr(language, msgid, code=notice.case.code, org=notice.organisation))

    return render


REFERRAL_OUTCOMES = {
    "agreed": N_("done, the reporter agreed"),
    "refused": N_("refused: the reporter said no"),
    "not_yours": N_("not done: the case is no longer yours to refer"),
}


def _referral_settled(notice: ReferralSettled, language: str) -> RenderedNotice:
    text = tr(
        language,
        "Referral of case {code} to {org}: {result}",
        code=notice.case.code,
        org=notice.organisation,
        result=tr(language, REFERRAL_OUTCOMES[notice.outcome]),
    )
    return RenderedNotice(text)


def _case_details(notice: CaseDetails, language: str) -> RenderedNotice:
    text = details_text(notice.case, language, notice.attachments)
    return RenderedNotice(text, parse_mode="HTML")


REPORTERS_WORDS = {
    "description": N_("[{code}] Description, in the reporter's words:"),
    "text": N_("[{code}] Message from the reporter:"),
    "referral_note": N_("[{code}] Note from the referring organisation:"),
}


def _reporters_words(notice: ReportersWords, language: str) -> RenderedNotice:
    return RenderedNotice(tr(language, REPORTERS_WORDS[notice.kind], code=notice.case.code))


def _draft_reminder(notice: DraftReminder, language: str) -> RenderedNotice:
    return RenderedNotice(
        tr(
            language,
            "Your report is not finished yet. Tap /start to continue where you stopped, or /cancel to discard it.",
        )
    )


# Over the reporter's words relayed to the owner, and over a drill's scripted reply.
REPORTER_HEADING = N_("💬 [{code}] Reporter:")


def _drill_reporter_reply(notice: DrillReporterReply, language: str) -> RenderedNotice:
    case = notice.case
    return RenderedNotice(
        tr(language, REPORTER_HEADING, code=case.code) + "\n" + tr(case.language, notice.line)
    )


DRILL_MISSES = {
    "never_wrote": N_("never wrote to the reporter"),
    "not_referred": N_("not referred to the other side of the corridor"),
    "late_claim": N_("claimed after the escalation deadline"),
}


def _drill_report(notice: DrillReport, language: str) -> RenderedNotice:
    done = [tr(language, "claimed")]
    if notice.messages:
        done.append(
            ntr(
                language,
                "wrote to the reporter ({n} message)",
                "wrote to the reporter ({n} messages)",
                notice.messages,
            )
        )
    if notice.referred:
        done.append(tr(language, "referred"))
    done.append(tr(language, "resolved"))
    missed = [tr(language, DRILL_MISSES[miss]) for miss in notice.missed]
    claim_time = (
        labels.duration(notice.time_to_claim, language) if notice.time_to_claim is not None else "—"
    )
    lines = [
        tr(language, "Drill report for {code}", code=notice.case.code),
        tr(language, "Time to claim: {time}", time=claim_time),
        tr(language, "Steps done: {steps}", steps=", ".join(done)),
        tr(
            language,
            "Missed: {missed}",
            missed=", ".join(missed) if missed else tr(language, "nothing"),
        ),
    ]
    return RenderedNotice("\n".join(lines))


def _digest(notice: Digest, language: str) -> RenderedNotice:
    return RenderedNotice(digest_views.digest_text(notice, language), parse_mode="HTML")


def _digest_chart(notice: DigestChart, language: str) -> RenderedNotice:
    digest = notice.digest
    return RenderedNotice(
        digest_views.chart_caption(list(digest.corridors), language, digest.days),
        _json(dashboard_keyboard(notice.url, language)) if notice.url else None,
        photo=digest_views.digest_chart(digest),
        photo_name="digest.png",
    )


def _case_alert(msgid: str) -> Callable[[Any, str], RenderedNotice]:
    """An alert that names only the case and its corridor."""

    def render(notice: Any, language: str) -> RenderedNotice:
        case = notice.case
        text = tr(language, msgid, code=case.code, corridor=case.corridor_code)
        return RenderedNotice(text, parse_mode="HTML")

    return render


def _card_undeliverable(notice: CardUndeliverableAlert, language: str) -> RenderedNotice:
    case = notice.case
    lines = [
        tr(
            language,
            "⚠️ The card of case <b>{code}</b> ({corridor}) cannot reach the group of {org} "
            "(chat {chat}): {reason}. That group is switched off until a coordinator links it again with /linkgroup.",
            code=case.code,
            corridor=case.corridor_code,
            org=html.escape(notice.organisation or "?"),
            chat=notice.chat_id,
            reason=tr(language, UNDELIVERABLE_REASONS.get(notice.reason, notice.reason)),
        )
    ]
    if notice.taken_by:
        lines.append(
            tr(
                language,
                "The case was posted instead to: {orgs}.",
                orgs=html.escape(", ".join(notice.taken_by)),
            )
        )
    elif not notice.still_shown:
        lines.append(
            tr(
                language,
                "No other group can take it. Please find it an owner: /case {code}",
                code=case.code,
            )
        )
    return RenderedNotice("\n".join(lines), parse_mode="HTML")


def _untranslated(notice: UntranslatedMessage, language: str) -> RenderedNotice:
    if notice.reason == "timeout":
        msgid = N_(
            "⚠️ Your message about {code} went to the reporter without translation: the translation engine did not answer in time."
        )
    else:
        msgid = N_(
            "⚠️ Your message about {code} went to the reporter without translation: the translation engine is not working."
        )
    return RenderedNotice(tr(language, msgid, code=notice.code))


_RENDER: dict[type[Notice], Callable[[Any, str], RenderedNotice]] = {
    Card: _card,
    CardWithdrawn: _card_withdrawn,
    SafetyCheck: _safety_check,
    QuietCase: _quiet_case,
    ConsentRequest: _consent_request,
    FeedbackRequest: _feedback_request,
    DashboardLink: _dashboard_link,
    NewCasePing: _ping(
        N_("🔔 New case {code} ({corridor}, {urgency}) is waiting in your group."),
    ),
    BackupPing: _ping(
        N_(
            "⏰ Case {code} ({corridor}, {urgency}) is still unclaimed. You are backup: please look at your group."
        ),
    ),
    NudgePing: _ping(
        N_(
            "👉 A coordinator asks you to look at case {code} ({corridor}, {urgency}): it is still waiting in your group."
        ),
    ),
    ReporterNotSafe: _about_case(
        N_("🚨 The reporter of case {code} says they are NOT safe. Please act now."),
    ),
    ReporterChanged: _about_case(
        N_(
            "ℹ️ The reporter of case {code} says something has changed. Their next messages will reach you."
        ),
    ),
    ReporterSilent: _about_case(
        N_(
            "🚨 The reporter of SOS case {code} has not answered since the last check-in. Please try to reach them."
        ),
    ),
    ReporterUnreachable: _reporter_unreachable,
    CaseWithdrawn: _about_case(N_("The reporter withdrew case {code}. It is closed.")),
    ReporterErased: _about_case(
        N_(
            "The reporter of case {code} asked for their data to be erased. The case is closed; please delete any notes you keep outside Corridor."
        ),
    ),
    ConsentWithdrawn: _about_case(
        N_(
            "The reporter of case {code} withdrew consent for your side of the corridor. Please stop working on it; the case has been taken from you."
        ),
    ),
    CaseClaimed: _to_organisation(
        N_(
            "✅ A responder of {org} is now working on your case {code}. You can write here; your messages reach them."
        ),
    ),
    CaseReassignedAway: _about_case(
        N_("Case {code} was given to another responder by a coordinator. Thank you."),
    ),
    ReferredCaseClaimed: _to_organisation(N_("Case {code} you referred was claimed by {org}.")),
    CasePassedOn: _to_organisation(
        N_("Your case {code} has been passed to {org}, who can help you further."),
    ),
    ReferralSettled: _referral_settled,
    CaseDetails: _case_details,
    ReportersWords: _reporters_words,
    ReporterMessageHeading: _about_case(REPORTER_HEADING),
    ReporterMediaTag: _about_case(N_("[{code}] from the reporter")),
    ResponderMessageHeading: _to_organisation(
        N_("💬 A responder of {org} about your case {code}:"),
    ),
    WorkerJoined: _about_case(
        N_("The worker has joined case {code} and now follows it themselves."),
    ),
    DraftReminder: _draft_reminder,
    UntranslatedMessage: _untranslated,
    DrillReporterReply: _drill_reporter_reply,
    DrillReport: _drill_report,
    Digest: _digest,
    DigestChart: _digest_chart,
    UnroutedAlert: _case_alert(
        N_(
            "⚠️ Case <b>{code}</b> ({corridor}) matched no responder group. Please find it an owner: /case {code}"
        ),
    ),
    UnclaimedAlert: _case_alert(
        N_(
            "🚨 Case <b>{code}</b> ({corridor}) is still unclaimed after every escalation step. /case {code}"
        ),
    ),
    OwnerLostAlert: _case_alert(
        N_("⚠️ Case <b>{code}</b> ({corridor}) lost its owner and is back in the queue."),
    ),
    ReporterNotSafeAlert: _case_alert(
        N_("🚨 The reporter of case <b>{code}</b> ({corridor}) says they are not safe."),
    ),
    ReporterSilentAlert: _case_alert(
        N_("🚨 The reporter of SOS case <b>{code}</b> ({corridor}) has gone silent."),
    ),
    CardUndeliverableAlert: _card_undeliverable,
}


class NoticeViews:
    """The ``Renderer`` the domain is built with."""

    def render(self, notice: Notice, language: str) -> RenderedNotice:
        return _RENDER[type(notice)](notice, language)
