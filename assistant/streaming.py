"""A streamed turn for the async HTTP layer: a client that goes away cancels the turn's generation."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread

from assistant.pipeline import Assistant


async def turn_events(
    assistant: Assistant, message: str, session_id: str | None
) -> AsyncIterator[tuple[str, Any]]:
    """`assistant.chat_stream`'s events, each waited for in a worker thread.

    When the client disconnects, Starlette cancels the response task while it waits here; the wait is
    abandoned at once and the `finally` sets the turn's cancel event, so the generator stops within a token
    or two instead of drafting on (and holding the model) for nobody.
    """
    cancel = threading.Event()
    events = assistant.chat_stream(message, session_id, cancel=cancel)
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
