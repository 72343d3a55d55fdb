"""The sandbox's HTTP side: one page, its static files, and a small JSON API.

`GET /api/state?after=N` waits (long poll) until the world has changed past version N, so
the page shows what the bot does as it happens without polling in a tight loop."""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from aiohttp import web

from corridor_dev.sandbox.session import Sandbox, SandboxError
from corridor_dev.sandbox.view import snapshot
from tgemulator.client import EmulatorError

SANDBOX_KEY = web.AppKey("sandbox", Sandbox)
LONG_POLL_SECONDS = 25.0
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
STATIC_FILES = ("index.html", "sandbox.js", "sandbox.css")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, text: str) -> web.Response:
    return web.json_response({"ok": False, "error": text}, status=status)


@web.middleware
async def local_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Only pages served from this machine may drive it (no DNS rebinding from a website)."""
    host = (request.host or "").rsplit(":", 1)[0]
    if host not in LOCAL_HOSTS:
        return _error(403, f"the sandbox answers only on localhost, not {host!r}")
    try:
        return await handler(request)
    except SandboxError as error:
        return _error(400, str(error))
    except EmulatorError as error:
        return _error(400, error.description)


async def _body(request: web.Request, *required: str) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SandboxError("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise SandboxError("the request body must be a JSON object")
    missing = [name for name in required if body.get(name) in (None, "")]
    if missing:
        raise SandboxError(f"missing {', '.join(missing)}")
    return body


def _int(body: dict[str, Any], name: str) -> int:
    try:
        return int(body[name])
    except (TypeError, ValueError):
        raise SandboxError(f"{name} must be a number") from None


def _static(name: str) -> bytes:
    return resources.files("corridor_dev.sandbox").joinpath("static", name).read_bytes()


async def page(request: web.Request) -> web.Response:
    return web.Response(body=_static("index.html"), content_type="text/html", charset="utf-8")


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise web.HTTPNotFound()
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return web.Response(body=_static(name), content_type=kind, charset="utf-8")


async def state(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    try:
        after = int(request.query.get("after", "-1"))
    except ValueError:
        raise SandboxError("after must be a number") from None
    await sandbox.wait_for_change(after, LONG_POLL_SECONDS)
    return web.json_response(await snapshot(sandbox))


async def say(request: web.Request) -> web.Response:
    body = await _body(request, "user_id", "chat_id", "text")
    reply_to = _int(body, "reply_to") if body.get("reply_to") else None
    await request.app[SANDBOX_KEY].say(
        _int(body, "user_id"), _int(body, "chat_id"), str(body["text"]), reply_to
    )
    return web.json_response({"ok": True})


async def press(request: web.Request) -> web.Response:
    body = await _body(request, "user_id", "chat_id", "message_id", "data")
    answer = await request.app[SANDBOX_KEY].press(
        _int(body, "user_id"), _int(body, "chat_id"), _int(body, "message_id"), str(body["data"])
    )
    return web.json_response({"ok": True, "answer": answer})


async def send(request: web.Request) -> web.Response:
    body = await _body(request, "user_id", "chat_id", "kind")
    await request.app[SANDBOX_KEY].send_sample(
        _int(body, "user_id"), _int(body, "chat_id"), str(body["kind"])
    )
    return web.json_response({"ok": True})


async def language(request: web.Request) -> web.Response:
    body = await _body(request, "user_id", "language")
    await request.app[SANDBOX_KEY].set_language(_int(body, "user_id"), str(body["language"]))
    return web.json_response({"ok": True})


async def page_language(request: web.Request) -> web.Response:
    body = await _body(request, "language")
    await request.app[SANDBOX_KEY].set_page_language(str(body["language"]))
    return web.json_response({"ok": True})


async def clock(request: web.Request) -> web.Response:
    body = await _body(request, "step")
    await request.app[SANDBOX_KEY].advance(str(body["step"]))
    return web.json_response({"ok": True})


async def guide(request: web.Request) -> web.Response:
    body = await _body(request, "action")
    sandbox = request.app[SANDBOX_KEY]
    action = body["action"]
    if action == "choose":
        sandbox.guide.choose(str(body.get("story", "")))
        await sandbox.after_action()
    elif action == "step":
        await sandbox.guide.step()
    elif action == "next":
        await sandbox.guide.next()
    elif action == "play":
        sandbox.guide.play()
        await sandbox.after_action()
    elif action == "stop":
        sandbox.guide.stop()
        await sandbox.after_action()
    else:
        raise SandboxError(f"unknown guide action {action!r}: choose, step, next, play or stop")
    return web.json_response({"ok": True})


async def reset(request: web.Request) -> web.Response:
    await request.app[SANDBOX_KEY].reset()
    return web.json_response({"ok": True})


async def file(request: web.Request) -> web.Response:
    """A photo someone sent, for its thumbnail in the chat."""
    h = request.app[SANDBOX_KEY].harness()
    data = await h.tg.get_file_bytes(request.match_info["file_id"])
    return web.Response(body=data, content_type="application/octet-stream")


def make_app(sandbox: Sandbox) -> web.Application:
    app = web.Application(middlewares=[local_only], client_max_size=64 * 1024)
    app[SANDBOX_KEY] = sandbox
    app.router.add_get("/", page)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/api/state", state)
    app.router.add_get("/api/file/{file_id}", file)
    for name, handler in (
        ("say", say),
        ("press", press),
        ("send", send),
        ("language", language),
        ("page_language", page_language),
        ("clock", clock),
        ("guide", guide),
        ("reset", reset),
    ):
        app.router.add_post(f"/api/{name}", handler)
    return app
