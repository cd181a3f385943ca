"""Who may call what: admin keys for `/v1/admin/`, widget keys and rate limits on the customer surfaces."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.config import Settings
from assistant.keys import KeyInfo, KeyStore, request_origin
from ui.http.error_shape import error
from ui.http.ratelimit import RateLimiter, retry_after

ADMIN_PREFIX = "/v1/admin"

# Only for the OpenAPI schema (the lock icon in /docs); the checks below read the header themselves.
bearer = HTTPBearer(auto_error=False, description="An admin key (`lepton keys create --kind admin`).")
widget_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="WidgetKey",
    description="A widget key, sent from one of its origins; optional unless required.",
)


@dataclass
class Security:
    """The API's key store, policy and rate limiters (one per app)."""

    keys: KeyStore
    require_widget_key: bool
    per_ip: RateLimiter
    per_key: RateLimiter
    # Reads the widget polls (a session's turns): buckets of their own, so polling never starves chat.
    read_per_ip: RateLimiter
    read_per_key: RateLimiter

    @classmethod
    def from_settings(cls, settings: Settings) -> Security:
        return cls(
            keys=KeyStore.from_settings(settings),
            require_widget_key=settings.require_widget_key,
            per_ip=RateLimiter(settings.rate_limit_per_minute),
            per_key=RateLimiter(settings.rate_limit_key_per_minute),
            read_per_ip=RateLimiter(settings.rate_limit_per_minute * settings.rate_limit_read_factor),
            read_per_key=RateLimiter(settings.rate_limit_key_per_minute * settings.rate_limit_read_factor),
        )


def is_admin_path(path: str) -> bool:
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, else None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def admin_problem(keys: KeyStore, authorization: str | None) -> tuple[int, str, str] | None:
    """(status, code, message) when the header does not carry a live admin key, else None: 401 (not
    authenticated) without a bearer token or with one that is no live key (unknown, revoked), 403 (not allowed)
    for a live key of another kind (a widget key)."""
    return _admin_key(keys, authorization)[1]


def _admin_key(
    keys: KeyStore, authorization: str | None
) -> tuple[KeyInfo | None, tuple[int, str, str] | None]:
    """The live admin key the header carries, or the problem (see admin_problem)."""
    token = bearer_token(authorization)
    if token is None:
        return None, (401, "unauthorized", "An admin key is required: Authorization: Bearer <admin key>.")
    info = keys.verify(token)
    if info is None:
        return None, (401, "unauthorized", "This key is unknown or revoked: it is no admin key.")
    if info.kind != "admin":
        return None, (403, "forbidden", "This key may not use the admin API.")
    return info, None


class AdminGuard:
    """ASGI middleware: every path under `/v1/admin` needs an admin key, whoever registers the route."""

    def __init__(self, app: ASGIApp, security: Security) -> None:
        self.app, self.security = app, security

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_admin_path(scope["path"]):
            headers = {k.lower(): v for k, v in scope.get("headers") or []}
            raw = headers.get(b"authorization")
            problem = admin_problem(self.security.keys, raw.decode("latin-1") if raw is not None else None)
            if problem is not None:
                status, code, message = problem
                extra = {"WWW-Authenticate": "Bearer"} if status == 401 else None
                await error(status, code, message, extra)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _security(request: Request) -> Security:
    return request.app.state.security


def require_admin(request: Request, _: HTTPAuthorizationCredentials | None = Depends(bearer)) -> KeyInfo:
    """FastAPI dependency for admin routes (the middleware already refused everyone else, as this does)."""
    info, problem = _admin_key(_security(request).keys, request.headers.get("authorization"))
    if problem is not None:  # _admin_key gives a key or a problem, never neither
        status, code, message = problem
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        raise HTTPException(status, {"code": code, "message": message}, headers=headers)
    assert info is not None
    return info


class Refused(Exception):
    """A customer request the access policy refuses, with the HTTP answer it gets on REST."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers

    def http(self) -> HTTPException:
        return HTTPException(self.status, {"code": self.code, "message": self.message}, headers=self.headers)


def _limit(limiter: RateLimiter, name: str, what: str) -> None:
    wait = limiter.take(name)
    if wait > 0:
        raise Refused(
            429,
            "rate_limited",
            f"Too many requests from this {what}; try again in {retry_after(wait)} s.",
            {"Retry-After": retry_after(wait)},
        )


def customer_gate(
    security: Security,
    client_host: str | None,
    authorization: str | None,
    origin: str | None,
    *,
    reads: bool = False,
) -> KeyInfo | None:
    """The one access policy of every surface that answers customers (REST routes, the chat page): the
    address's bucket, then the widget key and its origin rule, then the key's bucket. Raises `Refused`.

    A live widget key must come from one of its origins (403 otherwise); with `require_widget_key` a request
    without a live key is refused (401). Unknown bearer tokens are ignored when keys are optional, so clients
    that always send one (the OpenAI SDKs) keep working. `reads` uses the larger buckets of polled reads.
    """
    per_ip, per_key = (
        (security.read_per_ip, security.read_per_key) if reads else (security.per_ip, security.per_key)
    )
    _limit(per_ip, f"ip:{client_host or 'unknown'}", "address")
    token = bearer_token(authorization)
    info = security.keys.verify(token) if token else None
    if info is None:
        if security.require_widget_key:
            raise Refused(401, "unauthorized", "A widget key is required.", {"WWW-Authenticate": "Bearer"})
        return None
    if info.kind == "widget":
        allowed = request_origin(origin)
        if allowed is None or allowed not in info.origins:
            raise Refused(403, "forbidden_origin", "This key may not be used from this origin.")
    _limit(per_key, f"key:{info.id}", "key")
    return info


def chat_access(
    request: Request, _: HTTPAuthorizationCredentials | None = Depends(widget_bearer)
) -> KeyInfo | None:
    """FastAPI dependency for customer routes: `customer_gate` on the request (401/403/429 when refused)."""
    return _customer(request, reads=False)


def read_access(
    request: Request, _: HTTPAuthorizationCredentials | None = Depends(widget_bearer)
) -> KeyInfo | None:
    """`chat_access` for the reads the widget polls, on their own (larger) rate-limit buckets."""
    return _customer(request, reads=True)


def _customer(request: Request, reads: bool) -> KeyInfo | None:
    try:
        return customer_gate(
            _security(request),
            request.client.host if request.client else None,
            request.headers.get("authorization"),
            request.headers.get("origin"),
            reads=reads,
        )
    except Refused as refused:
        raise refused.http() from None
