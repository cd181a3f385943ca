"""CORS for the embeddable widget: origins of live widget keys only, on the customer API only, never `*`."""

from __future__ import annotations

import re

from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.keys import KeyStore, request_origin
from ui.http.error_shape import error

ALLOW_METHODS = "GET, POST, OPTIONS"
ALLOW_HEADERS = ("authorization", "content-type", "x-lepton-session")
EXPOSE_HEADERS = "Retry-After, X-Lepton-Session"
MAX_AGE_S = "600"
_TOKEN = re.compile(r"[a-z0-9!#$%&'*+.^_`|~-]{1,64}")
# What the widget (ui/static/widget.js) and OpenAI-style clients call from a shop's pages; nothing else (the
# admin API, the consoles, the docs, the Gradio pages) is ever readable cross-origin. /healthz: the widget reads
# how far along a starting server is, to say "Getting ready…" and send a held question once it is ready.
CUSTOMER_PATHS = frozenset({"/v1/chat", "/v1/chat/completions", "/v1/models", "/v1/feedback", "/healthz"})
CUSTOMER_PREFIXES = ("/v1/sessions/", "/v1/models/")


def is_customer_path(path: str) -> bool:
    return path in CUSTOMER_PATHS or path.startswith(CUSTOMER_PREFIXES)


class WidgetCORS:
    """On the customer API: answers preflights and adds `Access-Control-Allow-Origin` for origins that belong
    to a widget key.

    The set of origins is read from the key store on each request, so a key created or revoked with the
    CLI takes effect at once. Customer API responses always say `Vary: Origin`.
    """

    def __init__(self, app: ASGIApp, keys: KeyStore) -> None:
        self.app, self.keys = app, keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_customer_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        raw_origin = headers.get(b"origin")
        origin = request_origin(raw_origin)
        allowed = origin is not None and origin in self.keys.widget_origins()
        if (
            scope["method"] == "OPTIONS"
            and raw_origin is not None
            and b"access-control-request-method" in headers
        ):
            await self._preflight(scope, receive, send, raw_origin if allowed else None, headers)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out.add_vary_header("Origin")
                if allowed:
                    assert raw_origin is not None
                    out["Access-Control-Allow-Origin"] = raw_origin
                    out["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_cors)

    @staticmethod
    async def _preflight(
        scope: Scope, receive: Receive, send: Send, origin: str | None, headers: dict[bytes, str]
    ) -> None:

        vary = {"Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"}
        if origin is None:
            await error(403, "forbidden_origin", "This origin may not call the API.", vary)(
                scope, receive, send
            )
            return
        asked = [
            h.strip().lower()
            for h in headers.get(b"access-control-request-headers", "").split(",")
            if h.strip()
        ]
        method = headers[b"access-control-request-method"].strip().upper()
        if method not in ALLOW_METHODS.split(", ") or not all(_TOKEN.fullmatch(h) for h in asked):
            await error(403, "forbidden_preflight", f"Not allowed from a browser: {method}.", vary)(
                scope, receive, send
            )
            return
        response = Response(
            status_code=204,
            headers={
                **vary,
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ALLOW_METHODS,
                # The widget's own headers plus whatever else it asks for (SDKs add their own, e.g. x-stainless-*).
                "Access-Control-Allow-Headers": ", ".join(dict.fromkeys([*ALLOW_HEADERS, *asked])),
                "Access-Control-Max-Age": MAX_AGE_S,
            },
        )
        await response(scope, receive, send)
