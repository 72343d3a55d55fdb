from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, parse_config
from tests.support import EXAMPLE, example_data


def test_example_config_is_valid() -> None:
    config = load_config(EXAMPLE, environ={})
    assert {c.code for c in config.corridors} >= {"NP-QA", "NP-MY", "ID-MY"}
    sides = {(o.side, o.country) for o in config.organisations}
    assert ("destination", "QA") in sides and ("origin", "NP") in sides


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["telegram"].update(mode="carrier-pigeon"), "[telegram] mode"),
        (lambda d: d["database"].update(url="mysql://x"), "[database] url"),
        (lambda d: d["bot"].update(timezone="Mars/Olympus"), "[bot] timezone: unknown time zone"),
        (lambda d: d["bot"].update(colour="red"), "[bot] colour: unknown key"),
        (
            lambda d: d["corridors"][0].update(origin="Nepal"),
            "[[corridors]] NP-QA: origin: 'Nepal' is not",
        ),
        (
            lambda d: d["people"][0].pop("telegram_user_id"),
            "[[people]] sita: telegram_user_id: missing key",
        ),
        (
            lambda d: d["groups"].append({"organisation": "nobody", "chat_id": -5}),
            "[[groups]] -5: organisation: unknown organisation 'nobody'",
        ),
        (
            lambda d: d["people"].append(dict(d["people"][0], telegram_user_id=99)),
            "[[people]] sita (number 8): id 'sita' is used twice",
        ),
        (
            lambda d: d["telegram"].update(mode="webhook", webhook={"secret": "s" * 20}),
            "[telegram.webhook] url: webhook mode",
        ),
        (
            lambda d: d.setdefault("translation", {}).update(backend="libretranslate"),
            "[translation]: url: the libretranslate backend needs http(s)://host[:port]",
        ),
        (
            lambda d: d.setdefault("translation", {}).update(backend="google"),
            "[translation] backend",
        ),
        (
            lambda d: d.setdefault("translation", {}).update(timeout=0),
            "[translation] timeout",
        ),
        (
            lambda d: d["webapp"].update(public_url="http://dash.example.org/"),
            "[webapp] public_url: Telegram opens Mini Apps over HTTPS only",
        ),
        (lambda d: d["webapp"].update(listen="8090"), "[webapp] listen: '8090' is not host:port"),
        (lambda d: d["webapp"].update(init_data_max_age=5), "[webapp] init_data_max_age"),
    ],
)
def test_bad_config_gives_one_clear_line(change, expected) -> None:  # type: ignore[no-untyped-def]
    data = example_data()
    change(data)
    with pytest.raises(ConfigError) as error:
        parse_config(data, "corridor.toml", environ={})
    message = str(error.value)
    assert message.startswith("corridor.toml: ") and "\n" not in message
    assert expected in message


def test_secrets_come_from_the_environment() -> None:
    token = "123456:" + "A" * 35
    config = parse_config(
        example_data(),
        "x.toml",
        environ={"CORRIDOR_TELEGRAM_TOKEN": token, "CORRIDOR_ENCRYPTION_KEYS": "k1, k2"},
    )
    assert config.telegram.token == token
    assert config.security.encryption_keys == ["k1", "k2"]


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", **(env or {})},
    )


def test_check_config_cli_exit_codes(tmp_path: Path) -> None:
    secrets = {
        "CORRIDOR_TELEGRAM_TOKEN": "123456:" + "A" * 35,
        "CORRIDOR_ENCRYPTION_KEYS": __import__("bot.crypto").crypto.generate_key(),
    }
    good = run_cli("check-config", str(EXAMPLE), env=secrets)
    assert good.returncode == 0 and "OK" in good.stdout
    broken = tmp_path / "broken.toml"
    broken.write_text(EXAMPLE.read_text().replace('mode = "polling"', 'mode = "poling"'))
    bad = run_cli("check-config", str(broken))
    assert bad.returncode == 2
    assert (
        bad.stderr.strip().count("\n") == 0
        and "[telegram] mode" in bad.stderr
        and "Traceback" not in bad.stderr
    )
    missing = run_cli("check-config", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2 and "file not found" in missing.stderr


def test_unreachable_database_exits_1_with_a_clear_line(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    text = EXAMPLE.read_text().replace(
        'url = "sqlite+aiosqlite:///corridor.sqlite3"',
        'url = "postgresql+asyncpg://nobody@127.0.0.1:1/none"',
    )
    config.write_text(
        text.replace(
            "encryption_keys = []",
            'encryption_keys = ["' + __import__("bot.crypto").crypto.generate_key() + '"]',
        )
    )
    result = run_cli("--config", str(config), "db", "upgrade")
    assert result.returncode == 1
    assert "unavailable" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("url", "path", "listens", "problem"),
    [
        # The full public URL: its path is where the bot listens; nothing is appended.
        ("https://bot.example.org/telegram", "", "/telegram", None),
        ("https://bot.example.org/telegram", "/telegram", "/telegram", None),
        ("https://bot.example.org", "", "/", None),
        # A proxy that strips a prefix: the public path ends with the local one.
        ("https://example.org/corridor/telegram", "/telegram", "/telegram", None),
        # The old way (host only, path appended): Telegram would post where nobody listens.
        ("https://bot.example.org", "/telegram", None, "webhook.path: Telegram posts to '/'"),
        ("https://bot.example.org/hook", "/telegram", None, "but the bot would listen on"),
        ("bot.example.org/telegram", "", None, "webhook.url: webhook mode needs the full"),
    ],
)
def test_webhook_url_and_listening_path(url: str, path: str, listens, problem) -> None:  # type: ignore[no-untyped-def]
    from bot.config import WebhookSection, webhook_problems

    hook = WebhookSection(url=url, path=path, secret="s" * 20)
    problems = webhook_problems(hook)
    if problem is None:
        assert problems == [] and hook.listen_path == listens
    else:
        assert len(problems) == 1 and problem in problems[0]


@pytest.mark.parametrize(
    ("url", "api", "problem"),
    [
        ("https://bot.example.org/telegram", "https://api.telegram.org", None),
        ("https://bot.example.org:8443/telegram", "https://api.telegram.org", None),
        # Telegram's setWebhook refuses these; `run` would stop at start.
        ("http://bot.example.org/telegram", "https://api.telegram.org", "only to https://"),
        ("https://bot.example.org:8080/telegram", "https://api.telegram.org", "port 443, 80"),
        # A self-hosted Bot API server or the emulator: its own rules.
        ("http://127.0.0.1:8080/telegram", "http://127.0.0.1:8081", None),
        ("https://bot.example.org:99999/telegram", "http://127.0.0.1:8081", "the full public"),
    ],
)
def test_webhook_url_is_one_telegram_posts_to(url: str, api: str, problem) -> None:  # type: ignore[no-untyped-def]
    data = example_data()
    data["telegram"].update(
        mode="webhook", api_base_url=api, webhook={"url": url, "secret": "s" * 20}
    )
    if problem is None:
        parse_config(data, "c.toml", environ={})
        return
    with pytest.raises(ConfigError) as error:
        parse_config(data, "c.toml", environ={})
    assert str(error.value).startswith("c.toml: [telegram.webhook] url: "), str(error.value)
    assert problem in str(error.value)


def test_webhook_secret_uses_only_what_telegram_accepts() -> None:
    from bot.config import WebhookSection, webhook_problems

    hook = WebhookSection(url="https://h/t", secret="a secret with spaces!")
    assert webhook_problems(hook) == [
        "webhook.secret: Telegram accepts only letters, digits, _ and - (up to 256)"
    ]
    data = example_data()
    data["telegram"].update(mode="webhook", webhook={"url": "https://h/t"})
    with pytest.raises(ConfigError) as error:
        parse_config(data, "c.toml", environ={"CORRIDOR_WEBHOOK_SECRET": "short"})
    assert str(error.value) == (
        "CORRIDOR_WEBHOOK_SECRET (environment): webhook mode needs a secret of at least 16 "
        "characters"
    )


def test_relative_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    text = EXAMPLE.read_text().replace('key_file = ""', 'key_file = "keys.txt"')
    (folder / "c.toml").write_text(text)
    config = load_config(folder / "c.toml", environ={})
    assert config.database.url == f"sqlite+aiosqlite:///{folder / 'corridor.sqlite3'}"
    assert config.security.key_file == str(folder / "keys.txt")
    # A file without [database]: the default database sits beside it too.
    (folder / "bare.toml").write_text("")
    assert load_config(folder / "bare.toml", environ={}).database.url.endswith(
        f"{folder}/corridor.sqlite3"
    )
    # From the environment, a path means what it says.
    url = "sqlite+aiosqlite:///here.sqlite3"
    assert (
        load_config(folder / "c.toml", environ={"CORRIDOR_DATABASE_URL": url}).database.url == url
    )
