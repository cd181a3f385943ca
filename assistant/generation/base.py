"""The protocol every text generator implements."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable


@runtime_checkable
class Generator(Protocol):
    """Chat-style text generator: local model or remote OpenAI-compatible server."""

    name: str

    def warm_up(self) -> None:
        """Load heavy resources (model weights, HTTP client)."""
        ...

    def generate(self, messages: list[dict], *, max_new_tokens: int = 160, timeout_s: float = 20.0) -> str:
        """Return the full reply; raise GenerationError on timeout/failure."""
        ...

    def stream(
        self, messages: list[dict], *, max_new_tokens: int = 160, timeout_s: float = 20.0
    ) -> Iterator[str]:
        """Yield text pieces as produced; raise GenerationError on timeout/failure."""
        ...
