"""Streamed turns: a generator's draft drained until the customer leaves, the final reply cut into pieces, and
the async events the HTTP layer sends (a client that goes away cancels the turn's generation)."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from assistant.generation.errors import GenerationError

if TYPE_CHECKING:  # the pipeline imports this module
    from assistant.pipeline import Assistant


_WORD = re.compile(r"\S+\s*|\s+")


def reply_pieces(text: str, size: int = 24) -> Iterator[str]:
    """`text` in pieces of whole words (about `size` characters; long runs without spaces, like Chinese,
    are cut) whose concatenation is exactly `text`."""
    piece = ""
    for word in _WORD.findall(text):
        while len(word) > size:
            if piece:
                yield piece
                piece = ""
            yield word[:size]
            word = word[size:]
        piece += word
        if len(piece) >= size:
            yield piece
            piece = ""
    if piece:
        yield piece


def drain(stream: Iterator[str], cancel: threading.Event) -> str:
    """The whole draft of `stream`; once `cancel` is set the stream is closed, which stops the generator
    (the local model's worker, or the remote server's HTTP stream)."""
    pieces: list[str] = []
    try:
        if cancel.is_set():
            raise GenerationError("the customer left before generation", reason="cancelled")
        for piece in stream:
            if cancel.is_set():
                raise GenerationError("the customer left during generation", reason="cancelled")
            pieces.append(piece)
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    return "".join(pieces)


async def turn_events(
    assistant: Assistant, message: str, session_id: str | None, client_message_id: str | None = None
) -> AsyncIterator[tuple[str, Any]]:
    """`assistant.chat_stream`'s events, each waited for in a worker thread.

    When the client disconnects, Starlette cancels the response task while it waits here; the wait is
    abandoned at once and the `finally` sets the turn's cancel event, so the generator stops within a token
    or two instead of drafting on (and holding the model) for nobody.
    """
    cancel = threading.Event()
    events = assistant.chat_stream(message, session_id, cancel=cancel, client_message_id=client_message_id)
    try:
        while True:
            event = await anyio.to_thread.run_sync(next, events, None, abandon_on_cancel=True)
            if event is None:
                return
            yield event
    finally:
        cancel.set()
        # ValueError: still running in the abandoned thread, which returns once it sees `cancel`.
        with contextlib.suppress(ValueError):
            events.close()
