"""Configuration: one TOML file holds the runtime settings and the responder network.

Validation happens once, at start; any problem becomes a single line that names the file
and the key (``ConfigError``), so operators never see a traceback for a typo.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pycountry
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.i18n import LANGUAGE_NAMES
from bot.taxonomy import CATEGORY_CODES, SAVED_REPLY_CODES, SAVED_REPLY_FIELDS

# The documented config.example.toml, shipped inside the package (a link to the one at the
# top of the repository, copied into the wheel when it is built), so the demo
# and `corridor example-config` work when Corridor is installed from a wheel.
EXAMPLE_CONFIG = files("bot") / "config.example.toml"

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
    """Configuration problems, already phrased for the operator: one line each, naming the
    file (or environment variable) and the key."""

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


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


def _host_port(value: str) -> str:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not host:port")
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


# Telegram's rule for the secret it echoes in X-Telegram-Bot-Api-Secret-Token.
WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


class WebhookSection(_Strict):
    # The public URL Telegram posts to, in full (https://host/telegram): registered as is.
    url: str = ""
    secret: str = ""
    listen: str = "127.0.0.1:8080"
    # The path the local server answers on. Leave it out: it is the path of ``url``. Only a
    # proxy that strips a prefix (public /corridor/telegram → local /telegram) needs it, and
    # then the public path must end with it.
    path: str = ""

    _listen = field_validator("listen")(_host_port)

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if value and not value.startswith("/"):
            raise ValueError(f"{value!r} does not start with /")
        return value

    @property
    def public_path(self) -> str:
        """The path of ``url``: where Telegram posts."""
        return urlsplit(self.url).path or "/"

    @property
    def listen_path(self) -> str:
        """The path the webhook server answers on."""
        if self.path:
            return self.path
        return self.public_path if self.url else "/telegram"


# What Telegram's setWebhook accepts (a self-hosted Bot API server or the emulator may
# accept more, so this is checked only against Telegram's own).
TELEGRAM_API_HOST = "api.telegram.org"
TELEGRAM_WEBHOOK_PORTS = (443, 80, 88, 8443)


def webhook_problems(hook: WebhookSection, api_base_url: str = "") -> list[str]:
    """What keeps Telegram's posts from reaching the bot, as ``key: problem`` lines."""
    problems = []
    parts = urlsplit(hook.url)
    try:
        port = parts.port or 443
    except ValueError:
        port = None
    if parts.scheme not in ("https", "http") or not parts.netloc or port is None:
        problems.append(
            f"webhook.url: webhook mode needs the full public URL Telegram posts to, "
            f"e.g. https://bot.example.org/telegram, not {hook.url!r}"
        )
    elif urlsplit(api_base_url).hostname == TELEGRAM_API_HOST and (
        parts.scheme != "https" or port not in TELEGRAM_WEBHOOK_PORTS
    ):
        problems.append(
            f"webhook.url: Telegram posts only to https:// on port 443, 80, 88 or 8443, "
            f"not to {hook.url!r}"
        )
    elif hook.path and not parts.path.endswith(hook.path):
        problems.append(
            f"webhook.path: Telegram posts to {parts.path or '/'!r} (the path of webhook.url) "
            f"but the bot would listen on {hook.path!r}: leave path out, it follows the url"
        )
    if len(hook.secret) < 16:
        problems.append("webhook.secret: webhook mode needs a secret of at least 16 characters")
    elif not WEBHOOK_SECRET_RE.fullmatch(hook.secret):
        problems.append(
            "webhook.secret: Telegram accepts only letters, digits, _ and - (up to 256)"
        )
    return problems


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

    @field_validator("api_base_url")
    @classmethod
    def _api(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @model_validator(mode="after")
    def _webhook_complete(self) -> TelegramSection:
        if self.mode == "webhook":
            problems = webhook_problems(self.webhook, self.api_base_url)
            if problems:
                raise ValueError("\n".join(problems))
        return self


class WebappSection(_Strict):
    """The coordinators' dashboard (a Telegram Mini App) served by the bot's own server."""

    # Where the dashboard's server binds in polling mode (webhook mode serves it on the
    # webhook's listener); a TLS proxy in front makes it reachable as public_url.
    listen: str = "127.0.0.1:8090"
    # The HTTPS address Telegram opens, e.g. "https://bot.example.org/webapp/". Empty: no
    # dashboard (Telegram only opens Mini Apps over HTTPS).
    public_url: str = ""
    # Seconds a signed launch of the page stays valid: a captured request replayed later fails.
    init_data_max_age: int = Field(3600, ge=60, le=86400)

    _listen = field_validator("listen")(_host_port)

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if value and not value.startswith("https://"):
            raise ValueError("Telegram opens Mini Apps over HTTPS only (https://…)")
        return value


class DatabaseSection(_Strict):
    url: str = "sqlite+aiosqlite:///corridor.sqlite3"

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not (
            value.startswith("sqlite+aiosqlite://") or value.startswith("postgresql+asyncpg://")
        ):
            scheme = value.split("://", 1)[0] + "://" if "://" in value else repr(value)
            raise ValueError(
                f"{scheme} is not supported: use sqlite+aiosqlite:///FILE or postgresql+asyncpg://…"
            )
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
    # In plain words to a reporter asked to consent (bot.taxonomy.ORGANISATION_KINDS).
    kind: Literal["ngo", "shelter", "union", "legal", "embassy", "nhri"] = "ngo"
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
    webapp: WebappSection = WebappSection()
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
        problems = network_problems(self.model_dump(exclude={"path"}))
        if problems:
            raise ValueError("\n".join(problems))
        return self


# The network's lists, and the key that names an entry in messages (then the fallback).
ENTRY_NAMES: dict[str, tuple[str, ...]] = {
    "corridors": ("code",),
    "organisations": ("id", "name"),
    "groups": ("chat_id", "title"),
    "people": ("id", "name"),
    "rota": ("person",),
    "help": ("name",),
    "saved_replies": ("code",),
}


def _entries(data: dict[str, Any], section: str) -> list[dict[str, Any]]:
    value = data.get(section)
    if not isinstance(value, list):
        return []
    return [entry for entry in value if isinstance(entry, dict)]


def entry_label(data: dict[str, Any], section: str, index: int) -> str:
    """``[[people]] ramesh``: an entry named by its id (or name), not its position. The
    position is added only where the name does not single the entry out."""
    entries = data.get(section) if isinstance(data.get(section), list) else []
    entry = entries[index] if 0 <= index < len(entries) else None
    name = None
    key = None
    if isinstance(entry, dict):
        for key in ENTRY_NAMES.get(section, ()):
            value = entry.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                name = str(value)
                break
    if name is None:
        return f"[[{section}]] number {index + 1}"
    same = [
        i
        for i, other in enumerate(entries)
        if isinstance(other, dict) and key is not None and str(other.get(key)) == name
    ]
    shown = name if re.fullmatch(r"[\w.+-]+", name) else f"{name!r}"
    if len(same) > 1:
        shown += f" (number {index + 1})"
    return f"[[{section}]] {shown}"


def network_problems(data: dict[str, Any]) -> list[str]:
    """Duplicate ids and dangling references in the network (raw or validated data), one
    readable line each, every entry named by its id."""
    problems: list[str] = []

    def label(section: str, entry: dict[str, Any]) -> str:
        index = next(i for i, e in enumerate(data[section]) if e is entry)
        return entry_label(data, section, index)

    def dupes(section: str, key: str, what: str) -> None:
        seen: set[Any] = set()
        for entry in _entries(data, section):
            value = entry.get(key)
            if value is None:
                continue
            if value in seen:
                problems.append(f"{label(section, entry)}: {what} {value!r} is used twice")
            seen.add(value)

    dupes("corridors", "code", "code")
    dupes("organisations", "id", "id")
    dupes("groups", "chat_id", "chat_id")
    dupes("people", "id", "id")
    dupes("people", "telegram_user_id", "telegram_user_id")
    dupes("saved_replies", "code", "code")
    corridors = {c.get("code") for c in _entries(data, "corridors")}
    orgs = {o.get("id") for o in _entries(data, "organisations")}
    people = {p.get("id") for p in _entries(data, "people")}

    def listed(value: Any) -> list[Any]:
        return value if isinstance(value, list) else []

    for corridor in _entries(data, "corridors"):
        problems += [
            f"{label('corridors', corridor)}: coordinators: unknown person {p!r}"
            for p in listed(corridor.get("coordinators"))
            if p not in people
        ]
    for org in _entries(data, "organisations"):
        problems += [
            f"{label('organisations', org)}: corridors: unknown corridor {c!r}"
            for c in listed(org.get("corridors"))
            if c not in corridors
        ]
    problems += [
        f"{label('groups', g)}: organisation: unknown organisation {g.get('organisation')!r}"
        for g in _entries(data, "groups")
        if "organisation" in g and g.get("organisation") not in orgs
    ]
    for person in _entries(data, "people"):
        organisation = person.get("organisation")
        if organisation is not None and organisation not in orgs:
            problems.append(
                f"{label('people', person)}: organisation: unknown organisation {organisation!r}"
            )
        if person.get("role") == "responder" and organisation is None:
            problems.append(f"{label('people', person)}: a responder needs an organisation")
    problems += [
        f"{label('rota', r)}: person: unknown person {r.get('person')!r}"
        for r in _entries(data, "rota")
        if "person" in r and r.get("person") not in people
    ]
    problems += [
        f"{label('help', h)}: corridor: unknown corridor {h.get('corridor')!r}"
        for h in _entries(data, "help")
        if "corridor" in h and h.get("corridor") not in corridors
    ]
    problems += [
        f"{label('saved_replies', r)}: organisation: unknown organisation {r.get('organisation')!r}"
        for r in _entries(data, "saved_replies")
        if r.get("organisation") is not None and r.get("organisation") not in orgs
    ]
    return problems


def _set_path(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        data = data.setdefault(part, {})
    data[path[-1]] = value


# A model-level message that names its key: "webhook.url: …".
_KEYED_MESSAGE = re.compile(r"([a-z_]+(?:\.[a-z_]+)*): (.*)", re.DOTALL)


def _keys(parts: list[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + str(part)
    return text


def _describe(
    path: str,
    location: list[Any],
    message: str,
    data: dict[str, Any],
    from_environment: dict[tuple[str, ...], str],
) -> str:
    """One problem as one line: the environment variable, or the file's table, entry and
    key, then what is wrong."""
    for key_path, variable in from_environment.items():
        if tuple(location[: len(key_path)]) == key_path:
            return f"{variable} (environment): {message}"
    if not location:
        return f"{path}: {message}"
    section = str(location[0])
    rest = location[1:]
    if section in ENTRY_NAMES and rest and isinstance(rest[0], int):
        where = entry_label(data, section, rest[0]) + (":" if len(rest) > 1 else "")
        rest = rest[1:]
    elif section == "telegram" and rest[:1] == ["webhook"]:
        where, rest = "[telegram.webhook]", rest[1:]
    else:
        where = f"[{section}]"
    key = _keys(rest)
    return f"{path}: {where} {key}: {message}" if key else f"{path}: {where}: {message}"


def _problems(
    path: str,
    error: ValidationError,
    data: dict[str, Any],
    from_environment: dict[tuple[str, ...], str],
) -> list[str]:
    lines: list[str] = []
    for item in error.errors():
        location = list(item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        elif item["type"] == "missing":
            message = "missing key"
        for part in message.split("\n"):
            where = list(location)
            keyed = _KEYED_MESSAGE.fullmatch(part) if item["type"] == "value_error" else None
            if keyed and where and where[0] == "telegram":
                where += keyed.group(1).split(".")
                part = keyed.group(2)
            if not where and part.startswith("[["):
                lines.append(f"{path}: {part}")  # network problems name their entry
                continue
            lines.append(_describe(path, where, part, data, from_environment))
    return lines


def resolve_relative_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """Relative paths in a file mean relative to that file's folder, not to wherever the
    command happens to run: the SQLite database (also the default one) and the key file."""
    from models.db import resolve_sqlite_url

    data = _deep_copy(data)
    database = data.get("database")
    if database is None:
        database = data["database"] = {}
    if isinstance(database, dict):
        url = database.get("url", DatabaseSection.model_fields["url"].default)
        if isinstance(url, str):
            database["url"] = resolve_sqlite_url(url, base)
    security = data.get("security")
    if isinstance(security, dict):
        key_file = security.get("key_file")
        if isinstance(key_file, str) and key_file:
            security["key_file"] = str(base / Path(key_file).expanduser())
    return data


def parse_config(
    data: dict[str, Any],
    path: str = "<memory>",
    environ: dict[str, str] | None = None,
    base_dir: Path | None = None,
) -> Config:
    """Validates ``data`` (a parsed file) with the environment's overrides applied; every
    problem becomes one line of the ``ConfigError``. With ``base_dir``, relative paths are
    taken relative to it (the file's folder)."""
    environ = dict(os.environ if environ is None else environ)
    data = _deep_copy(data)
    if base_dir is not None:
        data = resolve_relative_paths(data, base_dir)
    from_environment: dict[tuple[str, ...], str] = {}
    for variable, key_path in ENV_OVERRIDES.items():
        if environ.get(variable):
            value: Any = environ[variable]
            if key_path[-1] == "encryption_keys":
                value = [k.strip() for k in value.split(",") if k.strip()]
            try:
                _set_path(data, key_path, value)
            except (AttributeError, TypeError):
                continue  # the file's table is not a table: reported below
            from_environment[key_path] = variable
    try:
        return Config.model_validate({**data, "path": path})
    except ValidationError as error:
        lines = _problems(path, error, data, from_environment)
        # References are checked only once every entry is valid; check them on the raw
        # data too, so one run lists every problem.
        if not any(item["loc"] == () for item in error.errors()):
            lines += [f"{path}: {line}" for line in network_problems(data)]
        raise ConfigError(list(dict.fromkeys(lines))) from None


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def load_config(path: str | Path, environ: dict[str, str] | None = None) -> Config:
    """The file at ``path`` with the environment's overrides; relative paths inside it are
    relative to its folder."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a configuration file") from None
    except PermissionError:
        raise ConfigError(f"{path}: not readable (permission denied)") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid TOML: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, str(path), environ, base_dir=path.resolve().parent)


def time_of_day(value: str) -> dt.time:
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))
