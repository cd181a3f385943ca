"""Gradio's file handling, made strict (issue #17): the second line of defence behind the pages' own rules.

Gradio checks the paths named in a request against its allowed/blocked lists only once `launch()` ran; an app
mounted into FastAPI never launches, so those checks never run. Here:

- `strict_file_checks()` replaces the check with one that holds whether or not the Blocks launched: a path
  Gradio would copy into its cache must lie, symlinks resolved, inside Gradio's upload folder (what Gradio
  itself received), and only Gradio's own package files count as "static" (served as they are).
- `GradioGuard`, an ASGI middleware in front of both mounts, refuses Gradio's proxy everywhere; on the public
  chat page (no file component) every file, upload and stream route; on the console (behind its login) any
  file outside the upload folder, and request bodies over the upload cap.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import gradio
import gradio.processing_utils
import gradio.utils
from fastapi import FastAPI, Request
from gradio.exceptions import InvalidPathError
from gradio.routes import App
from starlette.formparsers import MultiPartException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ui.http.console_guard import CONSOLE_PREFIX, mounted_console
from ui.http.error_shape import error

API = "/gradio_api"
GRADIO_PACKAGE = Path(gradio.__file__).resolve().parent
_ORIGINAL = {
    "set_static_paths": gradio.utils.set_static_paths,
    "is_static_file": gradio.utils.is_static_file,
}


def upload_folder() -> Path:
    """Where Gradio stores what it received (uploads) and the files it copied for its components."""
    return Path(gradio.utils.get_upload_folder()).resolve()


def in_upload_folder(path: str | Path) -> bool:
    """True for a path strictly inside the upload folder once resolved (symlinks, `..`, relative to cwd)."""
    try:
        resolved = (Path.cwd() / path).resolve()
        folder = upload_folder()
    except (OSError, RuntimeError, ValueError):  # a NUL byte, a symlink loop
        return False
    return resolved != folder and resolved.is_relative_to(folder)


def is_received_upload(path: str | Path) -> bool:
    """A regular file (not a symlink) inside the upload folder: something Gradio itself received."""
    p = Path(path)
    try:
        return not p.is_symlink() and p.is_file() and in_upload_folder(p)
    except (OSError, ValueError):
        return False


def _is_gradio_file(path: Any) -> bool:
    try:
        return Path(str(getattr(path, "path", path))).resolve().is_relative_to(GRADIO_PACKAGE)
    except (OSError, RuntimeError, ValueError):
        return False


def _check_allowed(path: str | Path, check_in_upload_folder: bool) -> None:
    """Gradio's `processing_utils._check_allowed`, without its "not launched: allow all" exit and its
    allowed paths (cwd, the temp dir): only what Gradio received may be copied into its cache."""
    if not in_upload_folder(path):
        raise InvalidPathError(f"{Path(path).name or path!s}: only files uploaded to this page can be used.")


def _set_static_paths(paths: str | Path | list[str | Path]) -> None:
    """Only Gradio's own files (its icons) may be static; Gradio marks any SVG it moves as static when the
    Blocks are not running, which for a mounted app would serve uploaded SVGs inline."""
    listed = paths if isinstance(paths, list) else [paths]
    kept = [p for p in listed if _is_gradio_file(p)]
    if kept:
        _ORIGINAL["set_static_paths"](kept)


def _is_static_file(file_path: Any) -> bool:
    """A static file skips every check and is served as it is: only Gradio's own files qualify."""
    return _is_gradio_file(file_path) and bool(_ORIGINAL["is_static_file"](file_path))


def strict_file_checks() -> None:
    """Install the strict checks into Gradio (idempotent; module attributes Gradio looks up at call time)."""
    gradio.processing_utils._check_allowed = _check_allowed
    gradio.utils.set_static_paths = _set_static_paths
    gradio.utils.is_static_file = _is_static_file


class _TooLarge(MultiPartException):
    """Raised from a capped body read; a multipart error, so Gradio's upload parser deletes its partial file."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"The body exceeds the maximum allowed size of {limit} bytes.")


class GradioGuard:
    """ASGI middleware in front of the Gradio mounts: the routes that touch files, URLs or uploads."""

    def __init__(self, app: ASGIApp, parent: FastAPI, max_upload_bytes: int) -> None:
        self.app, self.parent, self.max_bytes = app, parent, max_upload_bytes
        self._console: App | None = None  # found on the first request that needs it (mounted after us)
        # Repeated slashes and any case are matched too: stricter than Gradio's own routing, never looser.
        mount = re.escape(CONSOLE_PREFIX.strip("/"))
        self.console = re.compile(rf"^/+{mount}(?:/|$)", re.IGNORECASE)
        self.gradio = re.compile(
            rf"^(?:/+{mount})?/+{API.strip('/')}/+(?P<route>.*)$", re.IGNORECASE | re.DOTALL
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        console = self.console.match(scope["path"]) is not None
        problem = self.problem(scope["path"], console)
        if problem is not None and console and not self.signed_in(scope):
            # Who asks comes first, as on Gradio's own routes: 401 until the console's login.
            await error(401, "unauthorized", "Sign in to the admin console first.")(scope, receive, send)
        elif problem is not None:
            await error(403, "forbidden", problem)(scope, receive, send)
        elif console:
            await self.capped(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def problem(self, path: str, console: bool) -> str | None:
        """Why a request to `path` is refused, else None."""
        found = self.gradio.match(path)
        if found is None:
            return None
        route = found["route"]  # as Gradio sees it: `file=/x` and `file//x` both name /x
        name = route.lower()
        if name.startswith("proxy="):
            return "This server proxies no URLs."
        if not console and name.startswith(("file", "upload", "stream")):
            return "The chat page takes and serves no files."
        if name.startswith(("file=", "file/")) and not in_upload_folder(route[5:]):
            return "This file is not available."
        return None

    def signed_in(self, scope: Scope) -> bool:
        """The request carries a live console session (Gradio's cookie, looked up like its login check)."""
        console = self._console = self._console or mounted_console(self.parent)
        if console is None:
            return False
        cookies = Request(scope).cookies
        token = cookies.get(f"access-token-{console.cookie_id}") or cookies.get(
            f"access-token-unsecure-{console.cookie_id}"
        )
        return token is not None and console.tokens.get(token) is not None

    async def capped(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The console's requests, their bodies capped (Gradio's own limit covers files, not bodies)."""
        too_large = error(413, "payload_too_large", f"The body is larger than {self.max_bytes} bytes.")
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await too_large(scope, receive, send)
            return
        seen, over, started = 0, False, False

        async def counted() -> Message:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    over = True
                    raise _TooLarge(self.max_bytes)
            return message

        async def unless_over(message: Message) -> None:
            nonlocal started
            if over:  # Gradio answering the error we raised in its body read: ours goes out instead
                return
            started = True
            await send(message)

        try:
            await self.app(scope, counted, unless_over)
        except Exception:
            if not over:
                raise
        if over and not started:
            await too_large(scope, receive, send)


def guard_gradio(app: FastAPI, max_upload_bytes: int) -> None:
    """Make Gradio's file checks strict and put `GradioGuard` in front of the mounts (once, at creation)."""
    strict_file_checks()
    app.add_middleware(GradioGuard, parent=app, max_upload_bytes=max_upload_bytes)
