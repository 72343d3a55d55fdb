"""Reporters, cases and everything that hangs off a case."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.names import stored_fingerprint
from models.base import Base, Encrypted


class Reporter(Base):
    """Whoever talks to the bot about a case. Their Telegram id is pseudonymised."""

    __tablename__ = "reporters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_key: Mapped[str] = mapped_column(String(64), unique=True)  # keyed hash of the user id
    chat_id: Mapped[str | None] = mapped_column(Encrypted)
    language: Mapped[str] = mapped_column(String(8), default="en")
    safe_hours_start: Mapped[int | None] = mapped_column(Integer)  # local hour, inclusive
    safe_hours_end: Mapped[int | None] = mapped_column(Integer)  # local hour, exclusive
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    blocked_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    banned: Mapped[bool] = mapped_column(Boolean, default=False)
    # A blocked account is told once, then ignored.
    ban_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime]


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_created", "status", "created_at"),
        # Digests and /stats aggregate what was reported, claimed or resolved in a window.
        # Each index holds every column its aggregates read, so a year of cases is counted
        # from the index alone, without visiting the wide (encrypted) rows.
        Index(
            "ix_cases_window_created",
            "corridor_code",
            "created_at",
            "wage_currency",
            "wage_owed_minor",
            "employer_key",
            "agency_key",
            "drill",
        ),
        Index("ix_cases_window_claimed", "corridor_code", "claimed_at", "created_at", "drill"),
        Index(
            "ix_cases_window_referral_claimed",
            "corridor_code",
            "referral_claimed_at",
            "referred_at",
            "drill",
        ),
        Index(
            "ix_cases_window_resolved",
            "corridor_code",
            "resolved_at",
            "created_at",
            "outcome",
            "outcome_currency",
            "outcome_amount_minor",
            "drill",
        ),
        Index("ix_cases_open_urgency", "status", "urgency", "corridor_code", "created_at", "drill"),
        # Joins from timers and events to the cases of some corridors read this narrow
        # index, not the wide rows.
        Index("ix_cases_id_corridor", "id", "corridor_code", "drill"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    corridor_code: Mapped[str] = mapped_column(ForeignKey("corridors.code"))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("reporters.id"), index=True)
    reporter_role: Mapped[str] = mapped_column(String(16))  # self | family | advocate
    relationship: Mapped[str | None] = mapped_column(String(32))
    categories: Mapped[list[str]] = mapped_column(JSON)
    urgency: Mapped[str] = mapped_column(String(8))
    urgency_reason: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(12))
    side: Mapped[str] = mapped_column(String(12))  # side currently asked to act
    language: Mapped[str] = mapped_column(String(8))
    destination_country: Mapped[str] = mapped_column(String(2))
    origin_country: Mapped[str] = mapped_column(String(2))
    # Coarse place (city or area) is safe on cards; anything finer is encrypted.
    area: Mapped[str | None] = mapped_column(String(64))
    worker_location: Mapped[str] = mapped_column(String(12), default="destination")
    in_danger: Mapped[bool] = mapped_column(Boolean, default=False)
    workers_affected: Mapped[int] = mapped_column(Integer, default=1)
    since: Mapped[str | None] = mapped_column(String(16))
    # Optional, skippable (bot.taxonomy SECTORS / GENDERS): counted only in anonymised
    # aggregates, never shown on cards, summaries or digests.
    sector: Mapped[str | None] = mapped_column(String(16))
    gender: Mapped[str | None] = mapped_column(String(16))
    employer: Mapped[str | None] = mapped_column(Encrypted)
    agency: Mapped[str | None] = mapped_column(Encrypted)
    # Keyed fingerprints of the names, kept in step by the listeners below (see bot.names).
    employer_key: Mapped[str | None] = mapped_column(String(32))
    agency_key: Mapped[str | None] = mapped_column(String(32))
    wage_owed_minor: Mapped[int | None] = mapped_column(BigInteger)
    wage_currency: Mapped[str | None] = mapped_column(String(3))
    description: Mapped[str | None] = mapped_column(Encrypted)
    worker_name: Mapped[str | None] = mapped_column(Encrypted)
    details: Mapped[str | None] = mapped_column(Encrypted)  # further personal facts, as JSON
    contact_method: Mapped[str] = mapped_column(String(16), default="chat")
    contact_phone: Mapped[str | None] = mapped_column(Encrypted)
    precise_location: Mapped[str | None] = mapped_column(Encrypted)
    owner_organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    owner_person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"), index=True)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(String(32))
    outcome_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    outcome_currency: Mapped[str | None] = mapped_column(String(3))
    outcome_note: Mapped[str | None] = mapped_column(Encrypted)
    feedback_score: Mapped[int | None] = mapped_column(Integer)
    feedback_note: Mapped[str | None] = mapped_column(Encrypted)
    # Keyed hash of the one-time code a proxy reporter passes on so the worker can take over.
    handover_key: Mapped[str | None] = mapped_column(String(64), index=True)
    erased: Mapped[bool] = mapped_column(Boolean, default=False)
    # A practice case (`/drill`): worked like any other, counted nowhere, no real reporter.
    # Every statistic reads it from the indexes above, so excluding drills costs no lookup.
    drill: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime]
    routed_at: Mapped[dt.datetime | None]
    # The first claim, kept when the case is claimed again (after a release or a referral):
    # time to claim counts it. A referral's claim is its own figure.
    claimed_at: Mapped[dt.datetime | None]
    referred_at: Mapped[dt.datetime | None]  # the latest referral
    referral_claimed_at: Mapped[dt.datetime | None]  # the claim that followed it
    resolved_at: Mapped[dt.datetime | None]
    last_activity_at: Mapped[dt.datetime]
    reporter_seen_at: Mapped[dt.datetime | None]
    referred_by_organisation_id: Mapped[str | None] = mapped_column(String(64))
    # The person who referred: the only one told when the referral is claimed.
    referred_by_person_id: Mapped[str | None] = mapped_column(String(64))


class CaseEvent(Base):
    """Append-only audit trail; each row carries the hash of the one before it."""

    __tablename__ = "case_events"
    # Digests count escalations in a window.
    __table_args__ = (
        Index("ix_case_events_kind_at", "kind", "at", "case_id"),
        Index("ix_case_events_seq", "seq", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The place in the chain, given as the transaction commits (ids come earlier, and in
    # another order when transactions overlap); None until then.
    seq: Mapped[int | None] = mapped_column(BigInteger)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[dt.datetime]
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(80))  # "person:ana", "reporter:12", "system"
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # photo | voice | document | location | text
    file_id: Mapped[str | None] = mapped_column(Encrypted)
    text: Mapped[str | None] = mapped_column(Encrypted)
    created_at: Mapped[dt.datetime]


class Consent(Base):
    """One purpose, one version, the exact text shown; withdrawal is a timestamp."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("reporters.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    granted: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)
    text_shown: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    given_at: Mapped[dt.datetime]
    withdrawn_at: Mapped[dt.datetime | None]


class CaseCard(Base):
    """Where a case card was posted, so it can be re-rendered when the case changes."""

    __tablename__ = "case_cards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class RelayLink(Base):
    """Maps a message relayed to an owner back to its case, so a reply finds its way home."""

    __tablename__ = "relay_links"
    __table_args__ = (Index("ix_relay_links_chat_message", "chat_id", "message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)


@event.listens_for(Case.employer, "set")
def _fingerprint_employer(case: Case, value: str | None, *_: Any) -> None:
    case.employer_key = stored_fingerprint(value)


@event.listens_for(Case.agency, "set")
def _fingerprint_agency(case: Case, value: str | None, *_: Any) -> None:
    case.agency_key = stored_fingerprint(value)
