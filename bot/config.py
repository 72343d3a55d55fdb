"""Configuration: one TOML file holds the runtime settings and the responder network.

Validation happens once, at start; any problem becomes a single line that names the file
and the key (``ConfigError``), so operators never see a traceback for a typo.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pycountry
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.i18n import LANGUAGE_NAMES
from bot.taxonomy import CATEGORY_CODES, SAVED_REPLY_CODES, SAVED_REPLY_FIELDS

SUPPORTED_LANGUAGES = tuple(LANGUAGE_NAMES)
ENV_PREFIX = "CORRIDOR_"
# Secrets may come from the environment so they never have to live in a file in the repo.
ENV_OVERRIDES = {
    "CORRIDOR_TELEGRAM_TOKEN": ("telegram", "token"),
    "CORRIDOR_WEBHOOK_SECRET": ("telegram", "webhook", "secret"),
    "CORRIDOR_DATABASE_URL": ("database", "url"),
    "CORRIDOR_ENCRYPTION_KEYS": ("security", "encryption_keys"),
    "CORRIDOR_HASH_KEY": ("security", "hash_key"),
    "CORRIDOR_TELEGRAM_API_BASE_URL": ("telegram", "api_base_url"),
    "CORRIDOR_TRANSLATION_API_KEY": ("translation", "api_key"),
}


class ConfigError(Exception):
    """A configuration problem, already phrased for the operator."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


def _country(value: str) -> str:
    code = value.upper()
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def _clock_time(value: str) -> str:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise ValueError(f"{value!r} is not a time like 08:00")
    return value


def _language(value: str) -> str:
    if value not in SUPPORTED_LANGUAGES:
        raise ValueError(f"{value!r} is not one of {', '.join(SUPPORTED_LANGUAGES)}")
    return value


class BotSection(_Strict):
    timezone: str = "UTC"
    languages: list[str] = Field(default_factory=lambda: list(SUPPORTED_LANGUAGES))
    default_language: str = "en"
    # How long an unfinished report is kept, and when the one gentle reminder goes out.
    draft_reminder_minutes: int = Field(60, ge=1)
    draft_expiry_hours: int = Field(48, ge=1)
    tick_seconds: float = Field(5.0, gt=0)

    _tz = field_validator("timezone")(_timezone)

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        for lang in value:
            _language(lang)
        if not value:
            raise ValueError("at least one language is needed")
        return value

    _default = field_validator("default_language")(_language)


class WebhookSection(_Strict):
    url: str = ""
    secret: str = ""
    listen: str = "127.0.0.1:8080"
    path: str = "/telegram"

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"{value!r} is not host:port")
        return value


class TelegramSection(_Strict):
    token: str = ""
    api_base_url: str = "https://api.telegram.org"
    mode: Literal["polling", "webhook"] = "polling"
    # Seconds to wait for the Bot API's answer; a message whose answer does not come in time
    # is sent again (the person may see it twice, never not at all).
    request_timeout: float = Field(default=30.0, gt=0, le=300)
    webhook: WebhookSection = WebhookSection()

    @field_validator("token")
    @classmethod
    def _token(cls, value: str) -> str:
        if value and not re.fullmatch(r"\d+:[A-Za-z0-9_-]{20,}", value):
            raise ValueError("does not look like a bot token (123456:ABC…)")
        return value

    @model_validator(mode="after")
    def _webhook_complete(self) -> TelegramSection:
        if self.mode == "webhook":
            if not self.webhook.url.startswith("https://") and not self.webhook.url.startswith(
                "http://"
            ):
                raise ValueError("webhook.url: webhook mode needs a public URL")
            if len(self.webhook.secret) < 16:
                raise ValueError(
                    "webhook.secret: webhook mode needs a secret of at least 16 characters"
                )
        return self


class DatabaseSection(_Strict):
    url: str = "sqlite+aiosqlite:///corridor.sqlite3"

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not (
            value.startswith("sqlite+aiosqlite://") or value.startswith("postgresql+asyncpg://")
        ):
            raise ValueError("use sqlite+aiosqlite:///FILE or postgresql+asyncpg://…")
        return value


class SecuritySection(_Strict):
    # Newest first; older keys stay readable until `corridor keys rotate` re-encrypts.
    encryption_keys: list[str] = Field(default_factory=list)
    key_file: str = ""
    hash_key: str = ""
    retention_months: int = Field(12, ge=1)


class FsmSection(_Strict):
    storage: Literal["database", "redis"] = "database"
    redis_url: str = "redis://127.0.0.1:6379/0"


class EscalationSection(_Strict):
    sos_minutes: int = Field(5, ge=1)
    high_minutes: int = Field(30, ge=1)
    normal_minutes: int = Field(240, ge=1)


class FollowUpSection(_Strict):
    checkin_hours_sos: int = Field(6, ge=1)
    checkin_hours_high: int = Field(24, ge=1)
    checkin_hours_normal: int = Field(72, ge=1)
    owner_quiet_hours: int = Field(48, ge=1)
    sos_silence_hours: int = Field(2, ge=1)


class OutboxSection(_Strict):
    per_chat_per_second: float = Field(1.0, gt=0)
    per_group_per_minute: int = Field(20, ge=1)
    global_per_second: int = Field(30, ge=1)
    max_attempts: int = Field(8, ge=1)


class LimitsSection(_Strict):
    # Updates one account may send per minute before the rest are dropped unread.
    updates_per_minute: int = Field(40, ge=1)
    # New cases one reporter may open per day (SOS included).
    cases_per_day: int = Field(5, ge=1)


class StatisticsSection(_Strict):
    # Small-cell suppression thresholds (TAXONOMY): cells below k are not published.
    k_public: int = Field(10, ge=2)
    k_partner: int = Field(5, ge=2)
    # Employers or agencies named in this many cases within 30 days are flagged in digests.
    pattern_threshold: int = Field(3, ge=2)


class DigestSection(_Strict):
    default_time: str = "08:00"
    weekly_weekday: Literal[
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
    ] = "monday"

    _time = field_validator("default_time")(_clock_time)


class TranslationSection(_Strict):
    """Machine translation of relayed free text. Off unless the operator names an engine they
    run themselves: nothing a reporter writes goes to any service not configured here."""

    backend: Literal["none", "libretranslate"] = "none"
    # The LibreTranslate server, e.g. http://127.0.0.1:5000 (self-hosted).
    url: str = ""
    api_key: str = ""
    # Seconds to wait for the engine; past it the original goes alone and the reader is told.
    timeout: float = Field(3.0, gt=0, le=60)

    @model_validator(mode="after")
    def _url_for_backend(self) -> TranslationSection:
        if self.backend == "libretranslate" and not re.fullmatch(r"https?://[^\s/]+.*", self.url):
            raise ValueError("url: the libretranslate backend needs http(s)://host[:port]")
        return self


class CorridorEntry(_Strict):
    code: str
    origin: str
    destination: str
    notify_both_sides: bool = False
    coordinators: list[str] = Field(default_factory=list)

    _origin = field_validator("origin", "destination")(_country)

    @model_validator(mode="after")
    def _code_matches(self) -> CorridorEntry:
        if self.code != f"{self.origin}-{self.destination}":
            raise ValueError(f"code must be {self.origin}-{self.destination}")
        return self


class OrganisationEntry(_Strict):
    id: str
    name: str
    side: Literal["origin", "destination"]
    country: str
    corridors: list[str]
    languages: list[str] = Field(default_factory=lambda: ["en"])
    # Empty means every category.
    categories: list[str] = Field(default_factory=list)
    timezone: str = "UTC"

    _country = field_validator("country")(_country)
    _tz = field_validator("timezone")(_timezone)

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: list[str]) -> list[str]:
        unknown = [c for c in value if c not in CATEGORY_CODES]
        if unknown:
            raise ValueError(f"unknown categories {unknown}")
        return value


class GroupEntry(_Strict):
    organisation: str
    chat_id: int
    title: str = ""

    @field_validator("chat_id")
    @classmethod
    def _negative(cls, value: int) -> int:
        if value >= 0:
            raise ValueError("group chat ids are negative")
        return value


class PersonEntry(_Strict):
    id: str
    name: str
    telegram_user_id: int = Field(gt=0)
    role: Literal["responder", "coordinator", "admin"]
    organisation: str | None = None
    language: str = "en"
    timezone: str = "UTC"
    backup: bool = False
    digest_time: str | None = None

    _tz = field_validator("timezone")(_timezone)
    _lang = field_validator("language")(_language)

    @field_validator("digest_time")
    @classmethod
    def _digest_time(cls, value: str | None) -> str | None:
        return None if value is None else _clock_time(value)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class RotaEntry(_Strict):
    person: str
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]]
    start: str
    end: str

    _times = field_validator("start", "end")(_clock_time)


class HelpEntry(_Strict):
    corridor: str
    kind: Literal["hotline", "embassy", "labour_attache", "shelter", "nhri", "legal", "other"]
    name: str
    phone: str = ""
    url: str = ""
    source: str
    verified: dt.date


class SavedReplyEntry(_Strict):
    """An organisation's own saved reply, with its text in each language it was reviewed in;
    it is offered only for reporters whose language has a text."""

    code: str
    # Offered to this organisation's people; empty: to everyone.
    organisation: str | None = None
    fields: list[str] = Field(default_factory=list)
    title: dict[str, str]
    text: dict[str, str]

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z][A-Z0-9_]{1,19}", value):
            raise ValueError(f"{value!r} is not a code like OFFICE_HOURS (A-Z, 0-9, _)")
        if value in SAVED_REPLY_CODES:
            raise ValueError(f"{value!r} is the code of a built-in saved reply")
        return value

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: list[str]) -> list[str]:
        unknown = [f for f in value if f not in SAVED_REPLY_FIELDS]
        if unknown:
            raise ValueError(f"unknown fields {unknown}; use {', '.join(SAVED_REPLY_FIELDS)}")
        return value

    @field_validator("title", "text")
    @classmethod
    def _languages(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("needs a text in at least one language")
        for language in value:
            _language(language)
        return value

    @model_validator(mode="after")
    def _placeholders(self) -> SavedReplyEntry:
        allowed = {*self.fields, "code"}
        for language, text in self.text.items():
            used = set(re.findall(r"{(\w*)}", text))
            if used - allowed:
                raise ValueError(
                    f"text.{language} uses {sorted(used - allowed)}, not among its fields"
                )
        return self


class Config(_Strict):
    """The whole file, validated; ``path`` is where it came from, for messages."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    bot: BotSection = BotSection()
    telegram: TelegramSection = TelegramSection()
    database: DatabaseSection = DatabaseSection()
    security: SecuritySection = SecuritySection()
    fsm: FsmSection = FsmSection()
    escalation: EscalationSection = EscalationSection()
    followups: FollowUpSection = FollowUpSection()
    outbox: OutboxSection = OutboxSection()
    digest: DigestSection = DigestSection()
    limits: LimitsSection = LimitsSection()
    statistics: StatisticsSection = StatisticsSection()
    translation: TranslationSection = TranslationSection()
    corridors: list[CorridorEntry] = Field(default_factory=list)
    organisations: list[OrganisationEntry] = Field(default_factory=list)
    groups: list[GroupEntry] = Field(default_factory=list)
    people: list[PersonEntry] = Field(default_factory=list)
    rota: list[RotaEntry] = Field(default_factory=list)
    help: list[HelpEntry] = Field(default_factory=list)
    saved_replies: list[SavedReplyEntry] = Field(default_factory=list)
    path: Annotated[str, Field(exclude=True)] = "<memory>"

    @model_validator(mode="after")
    def _references(self) -> Config:
        problems = network_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def network_problems(config: Config) -> list[str]:
    """Duplicate ids and dangling references in the network, as a list of readable problems."""
    problems: list[str] = []

    def dupes(kind: str, ids: list[Any]) -> None:
        seen: set[Any] = set()
        for item in ids:
            if item in seen:
                problems.append(f"duplicate {kind} {item!r}")
            seen.add(item)

    dupes("corridor", [c.code for c in config.corridors])
    dupes("organisation", [o.id for o in config.organisations])
    dupes("group chat_id", [g.chat_id for g in config.groups])
    dupes("person", [p.id for p in config.people])
    dupes("telegram_user_id", [p.telegram_user_id for p in config.people])
    dupes("saved reply", [r.code for r in config.saved_replies])
    corridors = {c.code for c in config.corridors}
    orgs = {o.id for o in config.organisations}
    people = {p.id for p in config.people}
    for corridor in config.corridors:
        problems += [
            f"corridor {corridor.code}: unknown coordinator {p!r}"
            for p in corridor.coordinators
            if p not in people
        ]
    for org in config.organisations:
        problems += [
            f"organisation {org.id}: unknown corridor {c!r}"
            for c in org.corridors
            if c not in corridors
        ]
    problems += [
        f"group {g.chat_id}: unknown organisation {g.organisation!r}"
        for g in config.groups
        if g.organisation not in orgs
    ]
    for person in config.people:
        if person.organisation is not None and person.organisation not in orgs:
            problems.append(f"person {person.id}: unknown organisation {person.organisation!r}")
        if person.role == "responder" and person.organisation is None:
            problems.append(f"person {person.id}: a responder needs an organisation")
    problems += [
        f"rota: unknown person {r.person!r}" for r in config.rota if r.person not in people
    ]
    problems += [
        f"saved reply {r.code}: unknown organisation {r.organisation!r}"
        for r in config.saved_replies
        if r.organisation is not None and r.organisation not in orgs
    ]
    problems += [
        f"help {h.name!r}: unknown corridor {h.corridor!r}"
        for h in config.help
        if h.corridor not in corridors
    ]
    return problems


def _set_path(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        data = data.setdefault(part, {})
    data[path[-1]] = value


def _format_error(path: Path | str, error: ValidationError) -> str:
    first = error.errors()[0]
    location = [str(part) for part in first["loc"]]
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    elif first["type"] == "missing":
        message = "missing key"
    key = ""
    if location:
        section, rest = location[0], location[1:]
        key = f"[{section}]" + (" " + ".".join(rest) if rest else "")
    more = len(error.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{path}: {key}: {message}{suffix}" if key else f"{path}: {message}{suffix}"


def parse_config(
    data: dict[str, Any], path: str = "<memory>", environ: dict[str, str] | None = None
) -> Config:
    environ = dict(os.environ if environ is None else environ)
    data = {**data}
    for section in ("telegram", "database", "security", "translation"):
        if section in data:
            data[section] = _deep_copy(data[section])
    for variable, key_path in ENV_OVERRIDES.items():
        if environ.get(variable):
            value: Any = environ[variable]
            if key_path[-1] == "encryption_keys":
                value = [k.strip() for k in value.split(",") if k.strip()]
            _set_path(data, key_path, value)
    try:
        return Config.model_validate({**data, "path": path})
    except ValidationError as error:
        raise ConfigError(_format_error(path, error)) from None


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def load_config(path: str | Path, environ: dict[str, str] | None = None) -> Config:
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, str(path), environ)


def time_of_day(value: str) -> dt.time:
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))
