"""`corridor sandbox` over real HTTP (no browser): its API, its answers to bad requests,
the clock, languages, and the command itself as a process."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.i18n import tr
from corridor_dev.sandbox.run import has_display, listen
from corridor_dev.sandbox.session import Sandbox
from tests.support import free_port


@pytest.fixture
async def served() -> AsyncIterator[tuple[Sandbox, str]]:
    sandbox = Sandbox()
    await sandbox.start()
    runner, url = await listen(sandbox, 0)
    try:
        yield sandbox, url
    finally:
        await runner.cleanup()
        await sandbox.stop()


async def call(url: str, path: str, body: Any = None, **kw: Any) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http:
        if body is None and not kw.get("data"):
            async with http.get(url + path, **kw) as response:
                return response.status, await response.json()
        async with http.post(url + path, json=body, **kw) as response:
            return response.status, await response.json()


async def state(url: str) -> dict[str, Any]:
    status, body = await call(url, "api/state")
    assert status == 200
    return body


def chat(snapshot: dict[str, Any], key: str) -> dict[str, Any]:
    return next(c for c in snapshot["chats"] if c["key"] == key)


async def test_the_page_and_its_assets_are_served_without_any_cdn(
    served: tuple[Sandbox, str],
) -> None:
    _, url = served
    assert url.startswith("http://127.0.0.1:")
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as response:
            page = await response.text()
        assert response.status == 200 and "Corridor sandbox" in page
        for asset in ("sandbox.js", "sandbox.css"):
            async with http.get(f"{url}static/{asset}") as response:
                assert response.status == 200
                assert "http://" not in await response.text()
                assert "https://" not in await response.text()
        async with http.get(f"{url}static/../session.py") as response:
            assert response.status == 404


async def test_a_request_for_another_host_name_is_refused(served: tuple[Sandbox, str]) -> None:
    _, url = served
    status, body = await call(url, "api/state", headers={"Host": "evil.example:80"})
    assert status == 403 and "localhost" in body["error"]


async def test_the_state_lists_the_people_groups_and_open_chats(
    served: tuple[Sandbox, str],
) -> None:
    _, url = served
    snapshot = await state(url)
    keys = {c["key"] for c in snapshot["chats"]}
    assert {"hari", "kamala", "sita", "ramesh", "aisha", "qa-workers-centre"} <= keys
    assert snapshot["open"] == ["hari", "kamala", "qa-workers-centre", "ramesh", "aisha", "sita"]
    group = chat(snapshot, "qa-workers-centre")
    assert group["type"] == "group" and len(group["members"]) == 2
    assert snapshot["now"].startswith("2026-03-02T06:00")


async def test_long_poll_returns_when_something_changes(served: tuple[Sandbox, str]) -> None:
    _, url = served
    version = (await state(url))["version"]
    waiting = asyncio.create_task(call(url, f"api/state?after={version}"))
    await asyncio.sleep(0.2)
    assert not waiting.done()  # nothing changed yet: the request waits
    hari = chat(await state(url), "hari")["id"]
    await call(url, "api/say", {"user_id": hari, "chat_id": hari, "text": "/start"})
    status, snapshot = await asyncio.wait_for(waiting, 30)
    assert status == 200 and snapshot["version"] > version
    texts = [m["text"] for m in chat(snapshot, "hari")["messages"]]
    assert texts[0] == "/start" and texts[1].startswith("Corridor")  # Hari's phone is in Nepali


async def test_bad_requests_get_one_clear_line(served: tuple[Sandbox, str]) -> None:
    _, url = served
    hari = chat(await state(url), "hari")["id"]
    ramesh = chat(await state(url), "ramesh")["id"]
    cases = [
        ("api/say", {"user_id": hari, "chat_id": hari, "text": "   "}, "Type a message"),
        ("api/say", {"user_id": hari, "chat_id": hari}, "missing text"),
        ("api/say", {"user_id": "x", "chat_id": hari, "text": "hi"}, "user_id must be a number"),
        ("api/say", {"user_id": 1, "chat_id": 1, "text": "hi"}, "nobody with user id 1"),
        ("api/say", {"user_id": hari, "chat_id": ramesh, "text": "hi"}, "own private chat"),
        ("api/send", {"user_id": hari, "chat_id": hari, "kind": "video"}, "unknown kind"),
        ("api/clock", {"step": "1y"}, "unknown clock step"),
        ("api/language", {"user_id": hari, "language": "xx"}, "unknown language"),
        ("api/guide", {"action": "choose", "story": "nope"}, "no story"),
        ("api/guide", {"action": "dance"}, "unknown guide action"),
        (
            "api/press",
            {"user_id": hari, "chat_id": hari, "message_id": 999, "data": "x"},
            "does not exist",
        ),
    ]
    for path, body, expected in cases:
        status, answer = await call(url, path, body)
        assert status == 400 and expected in answer["error"], (path, body, answer)
        assert "\n" not in answer["error"]
    async with aiohttp.ClientSession() as http:
        async with http.post(url + "api/say", data=b"not json") as response:
            assert response.status == 400
            assert "not JSON" in (await response.json())["error"]


async def test_samples_of_every_kind_reach_the_bot(served: tuple[Sandbox, str]) -> None:
    _, url = served
    hari = chat(await state(url), "hari")["id"]
    for kind in ("photo", "voice", "document", "location"):
        status, _ = await call(url, "api/send", {"user_id": hari, "chat_id": hari, "kind": kind})
        assert status == 200
    messages = chat(await state(url), "hari")["messages"]
    sent = [m for m in messages if not m["from_bot"]]
    assert [m["kind"] for m in sent] == ["photo", "voice", "document", "location"]
    assert sent[2]["file_name"] == "contract.pdf"
    assert sent[3]["location"] == [25.2854, 51.531]
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}api/file/{sent[0]['file_id']}") as response:
            assert (await response.read())[:3] == b"\xff\xd8\xff"  # the sample JPEG


async def test_a_language_set_on_the_page_is_the_one_the_bot_speaks(
    served: tuple[Sandbox, str],
) -> None:
    _, url = served
    snapshot = await state(url)
    kamala, ramesh = chat(snapshot, "kamala")["id"], chat(snapshot, "ramesh")["id"]
    await call(url, "api/language", {"user_id": kamala, "language": "id"})
    await call(url, "api/language", {"user_id": ramesh, "language": "ne"})
    await call(url, "api/say", {"user_id": kamala, "chat_id": kamala, "text": "/start"})
    await call(url, "api/say", {"user_id": ramesh, "chat_id": ramesh, "text": "/oncall"})
    snapshot = await state(url)
    assert chat(snapshot, "kamala")["language"] == "id"
    assert chat(snapshot, "ramesh")["language"] == "ne"
    kamala_messages = chat(snapshot, "kamala")["messages"]
    kamala_buttons = [b["text"] for m in kamala_messages for row in m["buttons"] for b in row]
    assert kamala_messages[-1]["text"].startswith(tr("id", "Welcome to Corridor."))
    assert tr("id", "📝 Report a problem") in kamala_buttons
    reply = chat(snapshot, "ramesh")["messages"][-1]["text"]
    assert any("\u0900" <= ch <= "\u097f" for ch in reply), reply  # Devanagari


async def test_clock_buttons_fire_timers_and_show_them(served: tuple[Sandbox, str]) -> None:
    _, url = served
    siti = chat(await state(url), "siti")["id"]
    await call(url, "api/say", {"user_id": siti, "chat_id": siti, "text": "/sos"})
    snapshot = await state(url)
    question = chat(snapshot, "siti")["messages"][-1]
    await call(
        url,
        "api/press",
        {"user_id": siti, "chat_id": siti, "message_id": question["id"], "data": "sos:MY"},
    )
    await call(url, "api/send", {"user_id": siti, "chat_id": siti, "kind": "location"})
    await call(url, "api/clock", {"step": "5m"})
    await call(url, "api/clock", {"step": "5m"})
    snapshot = await state(url)
    events = [e["text"] for e in snapshot["events"]]
    assert any("⏰ Escalation step due" in e for e in events), events
    assert not any("escalate" in e or "_" in e for e in events), events  # no stored codes
    assert snapshot["now"].startswith("2026-03-02T06:10")
    union = chat(snapshot, "id-migrant-union")["messages"]
    assert union and "SOS" in union[-1]["text"]

    status, _ = await call(url, "api/clock", {"step": "digest"})
    assert status == 200
    snapshot = await state(url)
    assert any("⏰ Digest due" in e["text"] for e in snapshot["events"])
    # The first digest due is Dewi's (Jakarta) or Sita's (Kathmandu); it reached her chat.
    coordinators = chat(snapshot, "sita")["messages"] + chat(snapshot, "dewi")["messages"]
    assert any(m["from_bot"] for m in coordinators)
    await call(url, "api/clock", {"step": "1h"})
    assert (await state(url))["now"] > snapshot["now"]


async def test_message_times_follow_the_bot_clock(served: tuple[Sandbox, str]) -> None:
    sandbox, url = served
    hari = chat(await state(url), "hari")["id"]
    await call(url, "api/clock", {"step": "1d"})
    await call(url, "api/say", {"user_id": hari, "chat_id": hari, "text": "/start"})
    sent = chat(await state(url), "hari")["messages"][0]
    assert abs(sent["date"] - sandbox.harness().clock.now().timestamp()) < 120


def test_display_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert not has_display()
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert has_display()


def _environment(tmp_path: Path) -> dict[str, str]:
    # No display: the command must not try to open a browser window.
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}


async def test_the_command_serves_on_localhost_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sandbox",
        "--port",
        str(port),
        env=_environment(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        banner = await asyncio.wait_for(process.stdout.readline(), 120)
        assert banner.decode().strip() == f"Corridor sandbox: http://127.0.0.1:{port}/"
        assert "127.0.0.1 only" in (await process.stdout.readline()).decode()
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/") as response:
                assert response.status == 200
        with pytest.raises(OSError):  # not on any other interface
            await asyncio.open_connection(_outward_address(), port)
    finally:
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), 60)
    assert process.returncode == 0


def _outward_address() -> str:
    """This machine's address on its network (not loopback), or a documentation address."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            return probe.getsockname()[0]
        except OSError:
            return "192.0.2.1"


async def test_a_busy_port_is_one_line_and_a_failure(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "sandbox",
            "--port",
            str(port),
            env=_environment(tmp_path),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 1
    lines = err.decode().strip().splitlines()
    assert lines == [f"sandbox: cannot listen on 127.0.0.1:{port}: the port is in use"], lines
    assert b"Corridor sandbox:" not in out


async def test_help_lists_the_options() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sandbox",
        "--help",
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    text = out.decode()
    assert process.returncode == 0
    assert "--port" in text and "--no-browser" in text and "127.0.0.1" in text


async def test_the_page_follows_the_language_chosen_for_it(served: tuple[Sandbox, str]) -> None:
    """Labels, stories, guide hints and "What happened" are in the page's language, right
    to left for Arabic; a code never shows."""
    _, url = served
    siti = chat(await state(url), "siti")["id"]
    await call(url, "api/say", {"user_id": siti, "chat_id": siti, "text": "/sos"})
    status, _ = await call(url, "api/page_language", {"language": "xx"})
    assert status == 400
    await call(url, "api/page_language", {"language": "ne"})
    await call(url, "api/guide", {"action": "choose", "story": "worker-report"})
    await call(url, "api/clock", {"step": "1h"})
    snapshot = await state(url)
    assert snapshot["page_language"] == "ne" and snapshot["dir"] == "ltr"
    assert snapshot["ui"]["reset"] == tr("ne", "Reset") != "Reset"
    assert snapshot["guide"]["title"] == tr("ne", "A worker's report") != "A worker's report"
    assert snapshot["guide"]["current"]["hint"] == tr("ne", "send: {text}", text="/start")
    events = " ".join(e["text"] for e in snapshot["events"])
    assert tr("ne", "Sandbox started: a fresh database and the example network.") in events
    assert "Sandbox started" not in events and "moved" not in events
    assert chat(snapshot, "ramesh")["subtitle"].startswith(tr("ne", "responder"))
    await call(url, "api/page_language", {"language": "ar"})
    snapshot = await state(url)
    assert snapshot["dir"] == "rtl" and snapshot["ui"]["send"] == tr("ar", "Send")
