"""Errors raised by generators."""

from __future__ import annotations


class GenerationError(RuntimeError):
    """Generation failed or timed out; `reason` is "timeout", "busy", "http" or "error".

    `partial` holds the text produced before the failure (may be empty).
    """

    def __init__(self, message: str, *, reason: str = "error", partial: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.partial = partial
