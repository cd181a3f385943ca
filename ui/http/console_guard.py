"""The admin console's guard (issue #17): a console session ends when the admin key that opened it is revoked;
nothing but the customer API answers CORS; the console (like the API docs) refuses to be framed and to act on
requests sent by another site."""

from __future__ import annotations

import logging
from collections.abc import Iterator, KeysView
from contextvars import ContextVar

from fastapi import FastAPI
from gradio.routes import App
from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.keys import KeyStore
from ui.http.cors import is_customer_path
from ui.http.error_shape import error

log = logging.getLogger("lepton.admin")

CONSOLE_PREFIX = "/admin"
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")
# Set by the login check (ui/pages/console/layout.py: admin_auth) to the id of the admin key it just accepted;
# Gradio's login stores the session token right after, in the same task, so ConsoleSessions can read it there.
LOGIN_KEY: ContextVar[str | None] = ContextVar("lepton_console_login_key", default=None)
NOT_FRAMED = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
# The console loads images only from itself: a remote image in customer text could never phone home.
CONSOLE_CSP = "frame-ancestors 'none'; img-src 'self' data: blob:"


def is_console_path(path: str) -> bool:
    return path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/")


class ConsoleSessions(dict[str, str]):
    """Gradio's session tokens (token -> user name) for the console, each bound to the admin key that opened
    it. Every console request looks its token up here, so once the key is revoked the session is forgotten and
    the request is refused (401)."""

    def __init__(self, keys: KeyStore) -> None:
        super().__init__()
        self.store = keys
        self.key_ids: dict[str, str | None] = {}

    def __setitem__(self, token: str, user: str) -> None:
        key_id = LOGIN_KEY.get()
        if key_id is None:  # fail closed: a session no key vouches for is refused on its first request
            log.warning(
                "console login for %r without a verified admin key; its session will be refused", user
            )
        self.key_ids[token] = key_id
        super().__setitem__(token, user)

    def __delitem__(self, token: str) -> None:
        self.key_ids.pop(token, None)
        super().__delitem__(token)

    def _live(self, token: object) -> bool:
        if not isinstance(token, str) or not super().__contains__(token):
            return False
        info = self.store.live(self.key_ids.get(token))
        if info is not None and info.kind == "admin":
            return True
        user = self.pop(token, None)  # dict.pop, safe if a concurrent request dropped it first
        self.key_ids.pop(token, None)
        log.info("console session of %r ended: its admin key was revoked", user)
        return False

    def _sweep(self) -> None:
        for token in list(super().keys()):
            self._live(token)

    def get(self, token: object, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(token, default) if self._live(token) else default  # type: ignore[arg-type]

    def __contains__(self, token: object) -> bool:
        return self._live(token)

    def __getitem__(self, token: str) -> str:
        if not self._live(token):
            raise KeyError(token)
        return super().__getitem__(token)

    def keys(self) -> KeysView[str]:  # type: ignore[override]
        self._sweep()  # logout walks every session of a user: show it only the live ones
        return super().keys()

    def __iter__(self) -> Iterator[str]:
        self._sweep()
        return super().__iter__()


class ConsoleHeaders:
    """Cross-origin rules outside the customer API (which `WidgetCORS` serves): no `Access-Control-*` header
    ever (Gradio's own CORS would allow any origin with credentials on a public host name) and preflights
    refused; the console and the API docs never framed; and a request into the console from another site is
    refused unless it only opens the console (an `<img src=/admin/logout>` on any page logged the admin out)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or is_customer_path(path):
            await self.app(scope, receive, send)
            return
        console = is_console_path(path)
        extra = (
            {**NOT_FRAMED, "Content-Security-Policy": CONSOLE_CSP}
            if console
            else NOT_FRAMED
            if path in DOCS_PATHS
            else {}
        )
        asked = Headers(scope=scope)
        refusal = None
        if scope["method"] == "OPTIONS" and "origin" in asked and "access-control-request-method" in asked:
            refusal = "This page cannot be called from another site."
        elif console and _from_another_site(scope["method"], path, asked):
            refusal = "The admin console cannot be used from another site."
        if refusal is not None:
            await error(403, "forbidden_origin", refusal, extra)(scope, receive, send)
            return

        async def send_guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                for name in {k for k in out if k.startswith("access-control-")}:
                    del out[name]
                for name, value in extra.items():
                    out[name] = value
            await send(message)

        await self.app(scope, receive, send_guarded)


def _from_another_site(method: str, path: str, headers: Headers) -> bool:
    """A browser request the console must not act on: sent by another site (`Sec-Fetch-Site`), other than a
    plain navigation that opens a console page (a link to the console still works; logging out does not)."""
    if headers.get("sec-fetch-site", "same-origin") not in ("cross-site", "same-site"):
        return False
    opening = method == "GET" and headers.get("sec-fetch-mode") == "navigate"
    return not opening or path.rstrip("/").endswith("/logout")


def mounted_console(app: FastAPI) -> App | None:
    """The admin console's Gradio app, once it is mounted at `/admin` on `app`."""
    console = next((r.app for r in app.routes if isinstance(r, Mount) and r.path == CONSOLE_PREFIX), None)
    return console if isinstance(console, App) else None


def guard_console(app: FastAPI, keys: KeyStore) -> None:
    """Bind console sessions to their admin keys and add the console's headers; call once the console is
    mounted at `/admin` and before the app starts."""
    console = mounted_console(app)
    if console is None:
        raise RuntimeError("mount the admin console at /admin before guarding it")
    console.tokens = ConsoleSessions(keys)
    app.add_middleware(ConsoleHeaders)
