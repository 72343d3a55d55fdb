"""The responder network: corridors, organisations, their groups, people and rotas."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Corridor(Base):
    __tablename__ = "corridors"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)  # "NP-QA"
    origin: Mapped[str] = mapped_column(String(2))
    destination: Mapped[str] = mapped_column(String(2))
    notify_both_sides: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str]
    side: Mapped[str] = mapped_column(String(12))  # origin | destination
    # What the organisation is, in plain words for a reporter asked to consent to it.
    kind: Mapped[str] = mapped_column(String(16), default="ngo")
    country: Mapped[str] = mapped_column(String(2))
    languages: Mapped[list[str]]
    categories: Mapped[list[str]]  # empty: every category
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class OrganisationCorridor(Base):
    __tablename__ = "organisation_corridors"

    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    corridor_code: Mapped[str] = mapped_column(ForeignKey("corridors.code"), primary_key=True)


class ResponderGroup(Base):
    __tablename__ = "responder_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    title: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    managed_by: Mapped[str] = mapped_column(String(16), default="config")


class Person(Base):
    """A responder, coordinator or admin. Staff ids are known to the network, so plain."""

    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str]
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    role: Mapped[str] = mapped_column(String(16))  # responder | coordinator | admin
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    backup: Mapped[bool] = mapped_column(Boolean, default=False)
    digest_time: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when the person blocked the bot, so the outbox stops trying.
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    # "config" rows follow the TOML file; "telegram" rows were added by invite and are
    # left alone by `network sync`.
    managed_by: Mapped[str] = mapped_column(String(16), default="config")


class CorridorCoordinator(Base):
    __tablename__ = "corridor_coordinators"

    corridor_code: Mapped[str] = mapped_column(ForeignKey("corridors.code"), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)


class RotaShift(Base):
    """A weekly on-call shift, in the organisation's local time."""

    __tablename__ = "rota_shifts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    start: Mapped[str] = mapped_column(String(5))
    end: Mapped[str] = mapped_column(String(5))


class RotaOverride(Base):
    """A holiday (on_call false) or a swap (on_call true) between two instants."""

    __tablename__ = "rota_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    on_call: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")


class HelpContact(Base):
    __tablename__ = "help_contacts"
    __table_args__ = (UniqueConstraint("corridor_code", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    corridor_code: Mapped[str] = mapped_column(ForeignKey("corridors.code"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str]
    phone: Mapped[str] = mapped_column(String(64), default="")
    url: Mapped[str] = mapped_column(String(255), default="")
    source: Mapped[str]
    verified_on: Mapped[dt.date]


class Invite(Base):
    """A one-time /start deep link that makes its user a responder of an organisation."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_key: Mapped[str] = mapped_column(String(64), unique=True)  # keyed hash of the token
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[str] = mapped_column(String(16), default="responder")
    created_by: Mapped[str] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    used_by: Mapped[str | None] = mapped_column(String(64))


class SavedReplyText(Base):
    """An organisation's own saved reply from the network file, with its reviewed text per
    language. Kept here, not read from the file, so `network sync` changes them at once."""

    __tablename__ = "saved_replies"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    # Offered to this organisation's people; None: to everyone.
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    fields: Mapped[list[str]]
    titles: Mapped[dict[str, Any]]
    texts: Mapped[dict[str, Any]]
