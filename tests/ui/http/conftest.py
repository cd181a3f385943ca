"""A real Assistant (no generator, no intent model, a two-article knowledge base) behind real uvicorn servers."""

from __future__ import annotations

import copy
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

ORIGIN = "https://shop.example.com"
FOREIGN = "https://evil.example.net"

ARTICLES = {
    "refunds.md": "# Refunds\n\nRefunds are paid back to the original payment method within 5 business days "
    "after the returned item arrives at our warehouse.\n",
    "shipping.md": "# Shipping\n\nStandard shipping takes 3 to 5 business days. Express shipping costs 9 euros "
    "and arrives the next business day.\n",
}


@dataclass
class Live:
    """One running server: its URL, app, assistant, and keys made for it."""

    url: str
    app: Any
    assistant: Any
    admin_key: str
    widget_key: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(app: Any, lifespan: str = "off") -> Iterator[str]:
    """Run `app` with uvicorn on 127.0.0.1 in a thread; yields its base URL. `lifespan="on"` runs the app's
    start-up (the server's warm-up) as `lepton serve` does."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def variant(assistant: Any, **updates: Any) -> Any:
    """The same loaded assistant with other settings (shares models, knowledge base and conversation log)."""
    other = copy.copy(assistant)
    other.settings = assistant.settings.model_copy(update=updates)
    other.listeners = list(assistant.listeners)
    return other


@pytest.fixture(scope="session")
def api_assistant(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from assistant.config import load_settings
    from assistant.pipeline import Assistant

    root = tmp_path_factory.mktemp("api")
    docs = root / "docs"
    docs.mkdir()
    for name, text in ARTICLES.items():
        (docs / name).write_text(text, encoding="utf-8")
    settings = load_settings(home=root / "home", generator={"backend": "none"}, demo=False)
    assistant = Assistant(settings)
    assistant.warm_up()
    assert assistant.kb is not None and assistant.intents is None
    report = assistant.kb.ingest([docs])
    assert report.added == 2 and not report.errors
    return assistant


@pytest.fixture(scope="session")
def make_live(api_assistant: Any) -> Iterator[Callable[..., Live]]:
    """Start a server for the assistant with settings overrides; all stop at the end of the session."""
    from assistant.keys import KeyStore
    from ui.http.app import create_api

    stack: list[Any] = []

    def make(**updates: Any) -> Live:
        updates.setdefault("rate_limit_per_minute", 100_000)
        assistant = variant(api_assistant, **updates)
        app = create_api(assistant)
        keys = KeyStore(Path(assistant.settings.home) / "keys.db")
        admin, widget = keys.create("admin", name="test admin"), keys.create("widget", [ORIGIN], name="shop")
        cm = serve(app)
        url = cm.__enter__()
        stack.append(cm)
        return Live(url, app, assistant, admin, widget)

    yield make
    for cm in reversed(stack):
        cm.__exit__(None, None, None)


@pytest.fixture(scope="session")
def live(make_live: Callable[..., Live]) -> Live:
    """The default server (keys optional, generous rate limits)."""
    return make_live()
