"""The dashboard's HTTP side: the page (static files) and the JSON API, mounted at
/webapp/ on the bot's own aiohttp server."""

from __future__ import annotations

from importlib.resources import files

from aiohttp import web

from bot.domain.context import Domain
from bot.webapp import actions, reads
from bot.webapp.common import DOMAIN

STATIC = files("bot.webapp") / "static"
STATIC_FILES = {
    "app.js": "text/javascript",
    "app.css": "text/css",
    "charts.js": "text/javascript",
}
# The page is only ever shown inside Telegram or a test browser: nothing may frame it
# elsewhere, nothing loads from anywhere but here (and Telegram's own script).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' https://telegram.org; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors https://web.telegram.org "
        "https://*.telegram.org"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


async def index(_: web.Request) -> web.Response:
    body = (STATIC / "index.html").read_text(encoding="utf-8")
    response = web.Response(text=body, content_type="text/html", headers=SECURITY_HEADERS)
    response.enable_compression()
    return response


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise web.HTTPNotFound()
    response = web.Response(
        body=(STATIC / name).read_bytes(),
        content_type=STATIC_FILES[name],
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )
    # A weak mobile connection: the page's ~25 kB travel as ~8 kB.
    response.enable_compression()
    return response


def dashboard_app(domain: Domain) -> web.Application:
    """The page and its API, mounted at /webapp/ by the bot's web server."""
    app = web.Application(client_max_size=16 * 1024)
    app[DOMAIN] = domain
    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/api/me", reads.me)
    app.router.add_get("/api/refusal", reads.refusal_text)
    app.router.add_get("/api/board", reads.board)
    app.router.add_get("/api/cases/{code}", reads.case_view)
    app.router.add_post("/api/cases/{code}/details", reads.case_details)
    app.router.add_post("/api/cases/{code}/nudge", actions.nudge)
    app.router.add_post("/api/cases/{code}/release", actions.release)
    app.router.add_post("/api/cases/{code}/reassign", actions.reassign)
    app.router.add_get("/api/oncall", reads.oncall)
    app.router.add_post("/api/rota", actions.set_override)
    app.router.add_get("/api/trends", reads.trend)
    app.router.add_get("/api/export", reads.export)
    return app


def mount(web_app: web.Application, domain: Domain) -> None:
    web_app.add_subapp("/webapp", dashboard_app(domain))
