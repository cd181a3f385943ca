"""One turn's record, and the checks a message passes before the assistant reads it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from assistant.conversations import Session
from knowledge import Hit


class NotReady(RuntimeError):
    """Models are still loading; `startup` is how far along (`Startup.as_dict()`: stage, progress), if known."""

    def __init__(self, message: str, startup: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.startup = startup


class InputError(ValueError):
    """A message the assistant refuses to process (empty, too long)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class MessageIdConflict(ValueError):
    """A `client_message_id` already answered another message or another session: a client bug or a reused
    key, never a retry (HTTP 409, code `conflict`)."""

    code = "conflict"


@dataclass
class Turn:
    """Everything decided while answering one message; becomes the reply and the log row."""

    message: str
    session: Session
    query: str = ""
    language: str = "en"
    intent: str | None = None
    confidence: float = 0.0
    route: str = "fallback"
    reply: str = ""
    sources: list[Hit] = field(default_factory=list)
    trace: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def stage(self, name: str, since: float) -> float:
        now = time.perf_counter()
        self.trace.setdefault("stages_ms", {})[name] = round((now - since) * 1000, 2)
        return now


def checked_message(message: str, max_chars: int) -> str:
    """The message stripped; InputError when it is empty, too long or not text."""
    text = message.strip()
    if not text:
        raise InputError("empty_message", "The message is empty.")
    if len(message) > max_chars:
        raise InputError("message_too_long", f"The message is longer than {max_chars} characters.")
    if "\x00" in message:
        raise InputError("invalid_message", "The message contains a NUL character.")
    if not message.isascii() and any("\ud800" <= ch <= "\udfff" for ch in message):
        raise InputError("invalid_message", "The message is not valid Unicode text (a lone surrogate).")
    return text
