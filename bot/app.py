"""The app factory: wires configuration, database, bot, dispatcher, outbox and clock."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import secrets
import signal
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import DisabledEventIsolation, SimpleEventIsolation
from aiogram.methods.base import Response
from aiogram.types import BotCommand, MenuButtonWebApp, WebAppInfo
from aiohttp import web
from aiohttp.payload import BytesPayload
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from bot import calls
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.crypto import KeyRing, active, make_keyring
from bot.delivery import Delivery
from bot.domain import duties, network, privacy
from bot.domain.context import Domain
from bot.domain.events import ChainLinker
from bot.domain.people import dashboard_viewers
from bot.errors import StartupError, safe_url
from bot.fsm import DatabaseStorage, EncryptedRedisStorage
from bot.i18n import tr
from bot.middlewares import ChatLock, DatabaseMiddleware, Deferral, FloodGuard, RoleMiddleware
from bot.polling import poll
from bot.transactions import TransactionGuard
from bot.views.notices import NoticeViews
from bot.webapp.routes import mount as mount_dashboard
from models.db import make_engine, make_sessionmaker
from models.durability import CHECKPOINT_EVERY_S, GroupCommit
from models.liveness import Liveness
from models.migrate import pending_revisions, upgrade

log = logging.getLogger(__name__)

# Every update type a handler exists for; anything else Telegram never sends us.
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]


# Built once and kept: pydantic would rebuild the class each time (see TelegramSession).
_ANY_RESPONSE = Response[Any]


class TelegramSession(AiohttpSession):
    """aiogram's session, cheaper where the bot spends most:

    - aiogram parses each answer as ``Response[T]``; pydantic caches such classes only
      weakly, so without a reference they are collected and rebuilt (about 20 ms each, a
      third of the bot's CPU per update). The session keeps one per result type.
    - A call without files goes as one JSON body, which the Bot API takes as well as a form:
      aiogram builds a form field by field, and that cost as much as the rest of the send.
    - While delivery keeps only a sent message's id (``calls.only_the_message_id``), a
      successful answer is read as plain JSON, not as a whole Message."""

    _response_types: ClassVar[dict[Any, Any]] = {}

    def build_form_data(self, bot, method):  # type: ignore[no-untyped-def]
        files: dict[str, Any] = {}
        fields = self.prepare_value(
            method.model_dump(warnings=False), bot=bot, files=files, _dumps_json=False
        )
        if files:
            return super().build_form_data(bot, method)
        # A form leaves out an empty text, as it does a missing value.
        body = {key: value for key, value in fields.items() if value != ""}
        return BytesPayload(self.json_dumps(body).encode(), content_type="application/json")

    def check_response(self, bot, method, status_code, content):  # type: ignore[no-untyped-def]
        if status_code == 200 and calls.only_the_message_id.get():
            answer = self.json_loads(content)
            if isinstance(answer, dict) and answer.get("ok") is True:
                result = answer.get("result")
                return _ANY_RESPONSE(
                    ok=True,
                    result=calls.Sent(result.get("message_id"))
                    if isinstance(result, dict)
                    else result,
                )
        returning = method.__returning__
        if returning not in self._response_types:
            self._response_types[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)


def make_bot(config: Config) -> Bot:
    api = TelegramAPIServer.from_base(config.telegram.api_base_url.rstrip("/"))
    # Everything the bot sends is protected from forwarding and saving: a forwarded message
    # on a worker's phone, or out of a responder group, can expose someone.
    return Bot(
        config.telegram.token,
        session=TelegramSession(api=api, timeout=config.telegram.request_timeout),
        # A reply whose message was deleted meanwhile (a worker clearing the chat, an admin
        # tidying a group) goes out without the quote: Telegram refuses it for good otherwise.
        default=DefaultBotProperties(protect_content=True, allow_sending_without_reply=True),
    )


def make_storage(config: Config, domain: Domain) -> BaseStorage:
    if config.fsm.storage == "redis":
        # Drafts in Redis as in the database: hashed keys, encrypted values, expiring.
        expiry = datetime.timedelta(hours=config.bot.draft_expiry_hours)
        return EncryptedRedisStorage.for_url(config.fsm.redis_url, domain.keys, expiry)
    return DatabaseStorage(domain)


def make_isolation(config: Config, storage: BaseStorage | None = None) -> BaseEventIsolation:
    if config.fsm.storage == "redis":
        from aiogram.fsm.storage.redis import RedisEventIsolation

        # Several instances share Redis: the lock must live there too. It expires by itself
        # (handlers hold it for milliseconds), so a process killed mid-update frees the chat.
        if isinstance(storage, EncryptedRedisStorage):
            # Under the drafts' keyed hash: no Telegram id in a Redis key.
            return RedisEventIsolation(
                storage.redis, storage.key_builder, lock_kwargs={"timeout": CHAT_LOCK_SECONDS}
            )
        return RedisEventIsolation.from_url(
            config.fsm.redis_url, lock_kwargs={"timeout": CHAT_LOCK_SECONDS}
        )
    return SimpleEventIsolation()


CHAT_LOCK_SECONDS = 5


def make_dispatcher(
    domain: Domain, storage: BaseStorage, inflight: InFlight, delivery: Delivery
) -> Dispatcher:
    from handlers import routers

    # FSM is registered by hand, after the database middleware, so reading the state uses
    # the update's own session instead of a transaction of its own.
    dp = Dispatcher(storage=storage, disable_fsm=True)
    dp.update.outer_middleware(FloodGuard(domain.config.limits.updates_per_minute))
    dp.update.outer_middleware(inflight)
    # Updates of one chat are handled one at a time, in order, each after the previous one
    # committed: an album's photos or a long text in parts would otherwise overwrite each
    # other's changes to the draft.
    dp.update.outer_middleware(ChatLock(make_isolation(domain.config, storage)))
    dp.update.outer_middleware(DatabaseMiddleware(domain, delivery))
    dp.update.outer_middleware(
        FSMContextMiddleware(storage=storage, events_isolation=DisabledEventIsolation())
    )
    role = RoleMiddleware(domain.config.bot.default_language)
    # Outer, so that filters (Allowed) already see the role.
    for observer in (dp.message, dp.edited_message, dp.callback_query, dp.my_chat_member):
        observer.outer_middleware(role)
    for router in routers():
        dp.include_router(router)
    return dp


class InFlight:
    """Counts updates being handled, so shutdown can wait for them to finish."""

    def __init__(self) -> None:
        self.count = 0
        self.idle = asyncio.Event()
        self.idle.set()

    async def __call__(self, handler, event, data):  # type: ignore[no-untyped-def]
        self.count += 1
        self.idle.clear()
        try:
            return await handler(event, data)
        finally:
            self.count -= 1
            if self.count == 0:
                self.idle.set()


def make_domain(
    config: Config,
    sessions: Any,
    *,
    clock: Clock | None = None,
    keys: KeyRing | None = None,
) -> Domain:
    """The domain as the bot and every command run beside it use it: the system clock, the
    installed keys and the view layer that renders what it tells people."""
    return Domain(
        config=config,
        clock=clock if clock is not None else SystemClock(),
        sessions=sessions,
        keys=keys if keys is not None else active(),
        views=NoticeViews(),
    )


@dataclass
class CorridorApp:
    config: Config
    engine: AsyncEngine
    domain: Domain
    bot: Bot
    dispatcher: Dispatcher
    sender: Delivery
    inflight: InFlight
    linker: ChainLinker
    _tasks: list[asyncio.Task] = field(default_factory=list)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def tick(self) -> int:
        """One turn of the clock: due timers fire, then everything due is delivered."""
        fired = await self.run_duties()
        await self.sender.flush()
        return fired

    async def run_duties(self) -> int:
        # Events recorded by other processes (operator commands) are linked on the tick.
        self.linker.wake.set()
        fired = await duties.run_due(self.domain)
        await duties.sweep_drafts(self.domain)
        await privacy.purge_expired(self.domain)
        await duties.forget_handled_updates(self.domain)
        return fired

    async def start_background(self) -> None:
        await self.sender.take_back_orphans()
        await duties.take_back_orphans(self.domain)
        self.sender.start()
        self.linker.start()
        self._stopping.clear()
        self._tasks.append(asyncio.create_task(self._clock_loop(), name="clock"))
        if isinstance(self.domain.durability, GroupCommit):
            self._tasks.append(asyncio.create_task(self._checkpoint_loop(), name="checkpoints"))

    async def _clock_loop(self) -> None:
        """Timers are rows in the database; this loop only looks for due ones. A slow turn
        delays the next one, it never skips it, and a turn that found work looks again at
        once, so a busy minute does not push timers back."""
        period = self.config.bot.tick_seconds
        while not self._stopping.is_set():
            fired = 0
            try:
                fired = await self.run_duties()
            except Exception:
                log.exception("timer tick failed")
            if fired:
                continue
            await self._rest(period)

    async def _checkpoint_loop(self) -> None:
        """The write-ahead log is copied into the database file here, off the writers' way
        (models.durability)."""
        while not self._stopping.is_set():
            try:
                await self.domain.durability.checkpoint(writers_held=self.domain.writing)
            except Exception:
                # The log would grow until the next start: keep trying.
                log.exception("checkpoint failed")
            await self._rest(CHECKPOINT_EVERY_S)

    async def _rest(self, seconds: float) -> None:
        """Waits ``seconds``, or less if the background work is being stopped."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def stop_background(self) -> None:
        # The clock stops first, so no timer fires into a closing database.
        self._stopping.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        # Finish what handlers started before stopping delivery.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.inflight.idle.wait(), timeout=30)
        # Deliver what is ready; anything left is released and goes out after the next start.
        await self.sender.stop(drain=10)
        await self.linker.stop()

    async def close(self) -> None:
        await self.stop_background()
        await self.release()

    async def release(self) -> None:
        """Closes the Bot API session, the checkpoints' connection, the lease lock's
        connection and the database pool."""
        await self.bot.session.close()
        self.domain.durability.close()
        await self.domain.liveness.close()
        await self.engine.dispose()

    async def wait_for_api(self, attempts: int | None = None) -> None:
        """getMe with backoff: an unreachable Bot API is logged and retried, not a crash loop."""
        delay = 1.0
        attempt = 0
        while True:
            attempt += 1
            try:
                me = await self.bot.get_me()
                self.domain.bot_username = me.username or self.domain.bot_username
                return
            except TelegramUnauthorizedError as exc:
                raise StartupError("the Bot API refused the token ([telegram] token)") from exc
            except (TelegramNetworkError, TelegramServerError, OSError) as exc:
                if attempts is not None and attempt >= attempts:
                    raise StartupError(
                        f"Bot API at {self.config.telegram.api_base_url} unreachable: {exc}"
                    ) from exc
                log.error(
                    "Bot API at %s unreachable (%s); retrying in %.0fs",
                    self.config.telegram.api_base_url,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(60.0, delay * 2)

    async def set_commands(self) -> None:
        from handlers.common import command_list

        for language in self.config.bot.languages:
            await self.bot.set_my_commands(
                [BotCommand(command=c, description=d) for c, d in command_list(language)],
                language_code=None if language == self.config.bot.default_language else language,
            )
        await self.set_dashboard_buttons()

    async def set_dashboard_buttons(self) -> None:
        """Coordinators get the dashboard as their chat's menu button. The list is read and
        the transaction closed first: nothing talks to Telegram inside one."""
        url = self.config.webapp.public_url
        if not url:
            return
        async with self.domain.sessions() as session:
            people = await dashboard_viewers(session)
        for user_id, language in people:
            try:
                await self.bot.set_chat_menu_button(
                    chat_id=user_id,
                    menu_button=MenuButtonWebApp(
                        text=tr(language, "Dashboard"), web_app=WebAppInfo(url=url)
                    ),
                )
            except TelegramAPIError as exc:
                # Someone who never opened the bot has no chat yet; /dashboard still works.
                log.warning("no dashboard menu button for %s: %s", user_id, exc)

    async def start_dashboard(self) -> web.AppRunner | None:
        """In polling mode the dashboard gets a small server of its own (webhook mode
        serves it on the webhook's)."""
        if not self.config.webapp.public_url:
            return None
        web_app = web.Application()
        mount_dashboard(web_app, self.domain)
        runner = web.AppRunner(web_app)
        await runner.setup()
        host, _, port = self.config.webapp.listen.rpartition(":")
        await web.TCPSite(runner, host, int(port)).start()
        log.info("dashboard listening on %s", self.config.webapp.listen)
        return runner

    def _stop_on_signals(self) -> asyncio.Event:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return stop

    async def _until_stopped(self, work: asyncio.Future, stop: asyncio.Event) -> bool:
        """Waits for ``work`` unless a signal comes first; True when ``work`` finished."""
        stopper = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({work, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        return work in done

    async def run_polling(self) -> None:
        stop = self._stop_on_signals()
        dashboard_server = None
        try:
            if not await self._until_stopped(asyncio.ensure_future(self.wait_for_api()), stop):
                log.info("stopped before the Bot API answered")
                return
            await self.bot.delete_webhook(drop_pending_updates=False)
            await self.set_commands()
            dashboard_server = await self.start_dashboard()
            await self.start_background()
            # Our own loop, not aiogram's: an update aiogram cannot parse is skipped, not
            # fetched again forever (bot/polling.py).
            await poll(
                self.bot,
                self.dispatcher,
                allowed_updates=ALLOWED_UPDATES,
                stop_event=stop,
                durable=self.domain.durability.sync,
            )
        finally:
            if dashboard_server is not None:
                await dashboard_server.cleanup()
            await self.close()

    async def run_webhook(self) -> None:
        """Registers ``webhook.url`` with Telegram exactly as configured and answers on its
        path (``webhook.listen_path``); one line says both, and another if Telegram reports
        that its last deliveries failed."""
        from bot.webhook import HANDLER

        hook = self.config.telegram.webhook
        await self.wait_for_api()
        await self.set_commands()
        web_app = webhook_app(self)
        # No lingering: a body refused unread is not read afterwards either.
        runner = web.AppRunner(web_app, lingering_time=0)
        await runner.setup()
        host, _, port = hook.listen.rpartition(":")
        site = web.TCPSite(runner, host, int(port))
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            await self.close()
            raise StartupError(
                f"cannot listen on {hook.listen} ([telegram.webhook] listen): {exc.strerror}"
            ) from None
        try:
            before = await self.bot.get_webhook_info()
            if before.last_error_message and before.url:
                log.warning(
                    "webhook: Telegram reports its last delivery to %s failed: %s",
                    before.url,
                    before.last_error_message,
                )
            await self.bot.set_webhook(
                hook.url, secret_token=hook.secret, allowed_updates=ALLOWED_UPDATES
            )
            info = await self.bot.get_webhook_info()
        except BaseException as exc:
            await runner.cleanup()
            await self.close()
            # Telegram's refusal (an http:// URL, a port it does not post to, a name it
            # cannot resolve) is the operator's to fix: one line, not a traceback.
            if isinstance(exc, TelegramNetworkError | OSError):
                raise StartupError(
                    f"Bot API at {self.config.telegram.api_base_url} unreachable while "
                    f"registering the webhook: {exc}"
                ) from None
            if isinstance(exc, TelegramAPIError):
                raise StartupError(
                    f"Telegram refused the webhook {hook.url} ([telegram.webhook] url): "
                    f"{exc.message}"
                ) from None
            raise
        if info.url != hook.url:
            log.error("webhook: Telegram holds %r, not the configured %r", info.url, hook.url)
        await self.start_background()
        stop = self._stop_on_signals()
        log.info(
            "webhook: Telegram posts to %s; listening on %s, path %s",
            hook.url,
            hook.listen,
            hook.listen_path,
        )
        try:
            await stop.wait()
        finally:
            await runner.shutdown()
            await web_app[HANDLER].drain()
            await runner.cleanup()
            await self.close()


def webhook_app(app: CorridorApp) -> web.Application:
    """aiohttp app for webhook mode (bot.webhook): the secret header is checked (403
    otherwise), bodies are bounded, and every other answer is defined."""
    from bot.webhook import make_webhook_app

    hook = app.config.telegram.webhook
    web_app = make_webhook_app(
        app.dispatcher,
        app.bot,
        secret=hook.secret,
        path=hook.listen_path,
        durable=app.domain.durability.sync,
    )
    mount_dashboard(web_app, app.domain)
    return web_app


async def build_app(
    config: Config, clock: Clock | None = None, *, migrate: bool = True
) -> CorridorApp:
    keys = make_keyring(config)
    engine = make_engine(config.database.url, group_commit=True)
    try:
        if migrate:
            await upgrade(engine)
        elif await pending_revisions(engine):
            raise StartupError("the database schema is out of date: run `corridor db upgrade`")
    except StartupError:
        await engine.dispose()
        raise
    except Exception as exc:
        await engine.dispose()
        raise StartupError(f"database {safe_url(config.database.url)} unavailable: {exc}") from exc
    # Sessions of this app get their own class, so delivery's commit hooks are this app's only.
    session_class = type("CorridorSession", (Session,), {})
    domain = make_domain(config, make_sessionmaker(engine, session_class), clock=clock, keys=keys)
    domain.durability = await GroupCommit.of(engine)
    domain.liveness = await Liveness.of(engine)
    async with domain.sessions() as session, session.begin():
        report = await network.sync_network(session, config)
    if report.changed:
        log.info("network loaded: %d changes", len(report.changes))
    await duties.ensure_digest_timers(domain)
    bot = make_bot(config)
    sender = Delivery(bot, domain)
    sender.attach(session_class)
    domain.staff.watch(session_class)
    domain.corridors.watch(session_class)
    domain.rota.watch(session_class)
    domain.organisations.watch(session_class)
    linker = ChainLinker(domain)
    linker.watch(session_class)
    bot.session.middleware(Deferral(sender))
    bot.session.middleware(TransactionGuard())
    inflight = InFlight()
    dispatcher = make_dispatcher(domain, make_storage(config, domain), inflight, sender)
    return CorridorApp(config, engine, domain, bot, dispatcher, sender, inflight, linker)


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)
