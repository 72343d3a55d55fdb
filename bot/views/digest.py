"""The coordinator's digest and the /stats figures as a reader sees them: the text in
their language (HTML), and the chart."""

from __future__ import annotations

import datetime as dt
import html
import io
from collections.abc import Mapping

from bot import labels
from bot.domain.digest import ATTENTION_SHOWN, PATTERNS_SHOWN, UNCLAIMED_SHOWN, DigestData
from bot.domain.notices import Digest
from bot.domain.places import format_money
from bot.i18n import bidi_lines, ntr, tr


def money(minor: int, currency: str) -> str:
    return format_money(minor, currency)


def render(
    data: DigestData,
    language: str,
    now: dt.datetime,
    weekly: bool = False,
    days: int | None = None,
) -> str:
    """The digest's text; with ``days``, the same figures titled as the last ``days`` days
    (`/stats`)."""
    e = html.escape
    if days is not None:
        title = tr(language, "📊 Last {n} days", n=days)
    else:
        title = tr(language, "📊 Weekly summary") if weekly else tr(language, "📊 Daily digest")
    head = f"<b>{title}</b> · {e(', '.join(data.corridors))}"
    if data.quiet:
        return head + "\n" + quiet_text(data, language)
    lines = [
        head,
        tr(language, "New cases: {n}", n=data.new),
        tr(language, "Claimed: {n}", n=data.claimed),
        tr(language, "Resolved: {n}", n=sum(data.resolved.values())),
    ]
    for outcome, count in sorted(data.resolved.items()):
        lines.append(f"  · {labels.outcome(outcome, language)}: {count}")
    lines.append(tr(language, "Unclaimed now: {n}", n=data.unclaimed_total))
    for code, created, urgency in data.unclaimed[:UNCLAIMED_SHOWN]:
        waited = labels.duration(now - created, language)
        lines.append(f"  · {e(code)} ({labels.urgency(urgency, language)}, {waited})")
    lines.append(tr(language, "Overdue follow-ups: {n}", n=data.overdue_followups))
    lines.append(tr(language, "Escalations: {n}", n=data.escalations))
    if data.wages_owed:
        lines.append(
            tr(
                language,
                "Wages reported owed: {amounts}",
                amounts="; ".join(money(v, k) for k, v in sorted(data.wages_owed.items())),
            )
        )
    if data.wages_recovered:
        lines.append(
            tr(
                language,
                "Wages recovered: {amounts}",
                amounts="; ".join(money(v, k) for k, v in sorted(data.wages_recovered.items())),
            )
        )
    if data.median_claim_minutes is not None:
        lines.append(
            tr(
                language,
                "Median time to claim: {duration}",
                duration=labels.duration(dt.timedelta(minutes=data.median_claim_minutes), language),
            )
        )
    if data.referrals_claimed:
        lines.append(
            tr(
                language,
                "Referrals claimed: {n} (median {duration} after the referral)",
                n=data.referrals_claimed,
                duration=labels.duration(
                    dt.timedelta(minutes=data.median_referral_claim_minutes or 0), language
                ),
            )
        )
    if data.median_resolution_hours is not None:
        lines.append(
            tr(
                language,
                "Median time to resolution: {duration}",
                duration=labels.duration(
                    dt.timedelta(hours=data.median_resolution_hours), language
                ),
            )
        )
    for pattern in data.patterns[:PATTERNS_SHOWN]:
        lines.append(
            ntr(
                language,
                "⚠️ {kind} named in {n} case: {name} ({codes})",
                "⚠️ {kind} named in {n} cases: {name} ({codes})",
                pattern.count,
                kind=tr(language, "Employer")
                if pattern.kind == "employer"
                else tr(language, "Agency"),
                name=e(pattern.name),
                codes=e(", ".join(pattern.case_codes[:10])),
            )
        )
    hidden = not_shown(data.patterns_total, data.patterns, PATTERNS_SHOWN)
    if hidden > 0:
        lines.append(
            ntr(
                language,
                "… and {n} more repeated name",
                "… and {n} more repeated names",
                hidden,
            )
        )
    if data.attention:
        listed = ", ".join(data.attention[:ATTENTION_SHOWN])
        hidden = not_shown(data.attention_total, data.attention, ATTENTION_SHOWN)
        if hidden > 0:
            listed += " " + tr(language, "(+{n} more)", n=hidden)
        lines.append(tr(language, "Needs attention: {codes}", codes=e(listed)))
    return bidi_lines("\n".join(lines), language)


def quiet_text(data: DigestData, language: str) -> str:
    """Names the window it looked at: "since the last digest" was untrue for the first one,
    and /stats windows are not digests at all."""
    days = round((data.until - data.since) / dt.timedelta(days=1))
    if days <= 1:
        return tr(language, "Nothing new in the last 24 hours. No case is waiting.")
    return tr(language, "Nothing new in the last {n} days. No case is waiting.", n=days)


def not_shown(total: int, items: list, limit: int) -> int:
    """How many of ``total`` are left out when at most ``limit`` of ``items`` are listed."""
    return max(total, len(items)) - min(len(items), limit)


def chart_png(
    series: Mapping[str, Mapping[str, list[int]]], until: dt.datetime, days: int = 30
) -> bytes:
    """A chart without words, so no reader gets one in a language they did not choose:
    matplotlib neither has the glyphs of every shipped script nor shapes Devanagari or
    Arabic. Corridor codes, numbers and day.month dates only; the caption (``chart_caption``)
    says what it shows in the reader's language."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import dates as mdates
    from matplotlib import pyplot as plt

    start = (until - dt.timedelta(days=days - 1)).date()
    x = [start + dt.timedelta(days=i) for i in range(days)]
    figure, axis = plt.subplots(figsize=(8, 4), dpi=100)
    for corridor, values in sorted(series.items()):
        axis.plot(
            x,
            values["new"],
            marker="o",
            markersize=3,
            label=corridor,
        )
        axis.plot(
            x,
            values["resolved"],
            linestyle="--",
            label=corridor,
        )
    axis.xaxis.set_major_formatter(mdates.DateFormatter("%d.%m"))
    axis.yaxis.get_major_locator().set_params(integer=True)
    if series:
        axis.legend(fontsize=8)
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def chart_caption(corridors: list[str], language: str, days: int = 30) -> str:
    return "📈 " + tr(
        language,
        "Cases per day over the last {n} days ({corridors}): solid line new cases, dashed line resolved cases.",
        n=days,
        corridors=", ".join(corridors),
    )


def digest_text(notice: Digest, language: str) -> str:
    return render(notice.data, language, notice.now, notice.weekly)


def digest_chart(notice: Digest) -> bytes:
    return chart_png(notice.series, notice.now, notice.days)
