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
        (lambda d: d["corridors"][0].update(origin="Nepal"), "[corridors] 0.origin"),
        (
            lambda d: d["people"][0].pop("telegram_user_id"),
            "[people] 0.telegram_user_id: missing key",
        ),
        (
            lambda d: d["groups"].append({"organisation": "nobody", "chat_id": -5}),
            "unknown organisation 'nobody'",
        ),
        (lambda d: d["people"].append(dict(d["people"][0])), "duplicate person 'sita'"),
        (lambda d: d["telegram"].update(mode="webhook"), "webhook.url"),
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


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"},
    )


def test_check_config_cli_exit_codes(tmp_path: Path) -> None:
    good = run_cli("check-config", str(EXAMPLE))
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
