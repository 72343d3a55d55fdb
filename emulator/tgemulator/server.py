"""The emulator's HTTP server: Bot API, file downloads and the control API.

Routes:
  /bot{token}/{method}          Bot API (GET or POST; JSON, urlencoded, multipart)
  /file/bot{token}/{file_path}  file downloads, as given by getFile
  /control/{token}/{action}     control API (see control.py)
  /control/{token}/files/{id}   raw bytes of any stored file
"""

from __future__ import annotations

import json
import logging
import re
from types import TracebackType
from typing import Any

from aiohttp import web

from . import control
from .dispatch import Dispatcher
from .errors import ApiError, ControlError, Disconnect
from .registry import Described, Upload
from .state import Emulator, World
from .webhook import WebhookDispatcher

log = logging.getLogger(__name__)

TOKEN_RE = re.compile(r"\d{1,20}:[A-Za-z0-9_-]+")
MAX_BODY = 60 * 1024 * 1024
_UNAUTHORIZED = ApiError(401, "Unauthorized")
_EMULATOR_KEY = web.AppKey("emulator", Emulator)
_DISPATCHER_KEY = web.AppKey("dispatcher", Dispatcher)


def _dumps(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (forged input) cannot be UTF-8: it travels as a \ud800 escape,
        # which is valid JSON and what a Bot API server would send.
        text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text


def _api_error(error: ApiError) -> web.Response:
    return web.json_response(error.to_json(), status=error.code, dumps=_dumps)


def _world(request: web.Request) -> World | None:
    token = request.match_info["token"]
    if not TOKEN_RE.fullmatch(token):
        return None
    return request.app[_EMULATOR_KEY].world(token)


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    try:
        return await _read_body(request)
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "Request Entity Too Large") from None


async def _read_body(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    params: dict[str, Any] = dict(request.query)
    files: dict[str, Upload] = {}
    if request.method != "POST" or not request.body_exists:
        return params, files
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(400, "Bad Request: can't parse JSON object") from None
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request: JSON object expected")
        params.update(body)
        return params, files
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            files[key] = Upload(value.filename, value.file.read(), value.content_type)
        else:
            params[key] = value
    return params, files


async def _bot_api(request: web.Request) -> web.StreamResponse:
    world = _world(request)
    if world is None:
        return _api_error(_UNAUTHORIZED)
    method = request.match_info["method"]
    # a long poll waiting for updates is not "work in progress" for idleness
    counted = method.lower() != "getupdates"
    world.inflight += counted
    world.touch()
    try:
        raw, files = await _read_params(request)
        result = await request.app[_DISPATCHER_KEY].call(world, method, raw, files)
    except ApiError as exc:
        # refusals are normal in tests, but they are the first thing to look at
        log.info("%s %s -> %s %s", world.bot_id, method, exc.code, exc.description)
        return _api_error(exc)
    except Disconnect:
        if request.transport is not None:
            request.transport.abort()
        raise web.HTTPServiceUnavailable() from None  # never reaches the client
    except Exception:
        # an emulator bug must reach aiogram as a Telegram-shaped error, not as garbage
        log.exception("emulator failed on %s", method)
        return _api_error(ApiError(500, "Internal Server Error"))
    finally:
        world.inflight -= counted
        world.touch()
    body: dict[str, Any] = {"ok": True, "result": result}
    if isinstance(result, Described):
        body = {"ok": True, "result": result.result, "description": result.description}
    return web.json_response(body, dumps=_dumps)


async def _download(request: web.Request) -> web.StreamResponse:
    world = _world(request)
    if world is None:
        return _api_error(_UNAUTHORIZED)
    stored = world.files.by_path.get(request.match_info["path"])
    if stored is None:
        return _api_error(ApiError(404, "Not Found"))
    return web.Response(body=stored.data, content_type=stored.mime_type)


def _control_error(status: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "description": description}, status=status, dumps=_dumps)


async def _control(request: web.Request) -> web.StreamResponse:
    world = _world(request)
    if world is None:
        return _control_error(401, "malformed bot token")
    args: Any = {}
    if request.body_exists:
        try:
            args = await request.json()
        except ValueError:
            return _control_error(400, "the body must be a JSON object")
    if not isinstance(args, dict):
        return _control_error(400, "the body must be a JSON object")
    try:
        result = await control.run_action(world, request.match_info["action"], args)
    except ControlError as exc:
        return _control_error(exc.status, exc.description)
    except Exception as exc:
        log.exception("control action %s failed", request.match_info["action"])
        return _control_error(500, f"emulator error: {exc!r}")
    return web.json_response({"ok": True, "result": result}, dumps=_dumps)


async def _control_file(request: web.Request) -> web.StreamResponse:
    world = _world(request)
    if world is None:
        return _control_error(401, "malformed bot token")
    stored = world.files.get(request.match_info["file_id"])
    if stored is None:
        return _control_error(404, "unknown file_id")
    return web.Response(body=stored.data, content_type=stored.mime_type)


def create_app(
    emulator: Emulator | None = None, webhooks: WebhookDispatcher | None = None
) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app[_EMULATOR_KEY] = emulator or Emulator()
    app[_DISPATCHER_KEY] = Dispatcher(webhooks or WebhookDispatcher())
    app.router.add_route("*", r"/bot{token}/{method}", _bot_api)
    app.router.add_get(r"/file/bot{token}/{path:.+}", _download)
    app.router.add_get(r"/control/{token}/files/{file_id}", _control_file)
    app.router.add_post(r"/control/{token}/{action}", _control)
    return app


class EmulatorServer:
    """A running emulator; `base_url` is what aiogram's TelegramAPIServer needs."""

    def __init__(self, runner: web.AppRunner, base_url: str) -> None:
        self._runner = runner
        self.base_url = base_url
        self.app = runner.app
        self.state: Emulator = self.app[_EMULATOR_KEY]
        self._dispatcher: Dispatcher = self.app[_DISPATCHER_KEY]

    def world(self, token: str) -> World:
        return self.state.world(token)

    async def close(self) -> None:
        self.state.close()  # wakes long polls and waits so shutdown is immediate
        await self._dispatcher.webhooks.close(list(self.state.worlds.values()))
        await self._runner.cleanup()

    async def __aenter__(self) -> EmulatorServer:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


async def start_emulator(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    webhook_retry_delays: tuple[float, ...] = (0.05, 0.1, 0.2, 0.5, 1.0),
    webhook_timeout: float = 10.0,
) -> EmulatorServer:
    """Start the emulator on host:port (0 picks a free port)."""
    webhooks = WebhookDispatcher(retry_delays=webhook_retry_delays, timeout=webhook_timeout)
    app = create_app(webhooks=webhooks)
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = runner.addresses[0][1]
    url_host = f"[{host}]" if ":" in host else host
    return EmulatorServer(runner, f"http://{url_host}:{bound_port}")
