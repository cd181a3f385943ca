"""What an operation refuses with; each surface words and maps them at its door (REST: 404, 409, 400)."""

from __future__ import annotations


class OperationError(Exception):
    """An admin operation that cannot be done as asked; `str(exc)` is a message for people."""


class NotFound(OperationError):
    """The session, review item, version or document named does not exist."""


class Conflict(OperationError):
    """The state forbids it now: a retrain is already running, nothing to roll back to or to publish."""


class Invalid(OperationError):
    """The request itself is wrong: an empty text, an unknown intent name, a file that was not uploaded."""
