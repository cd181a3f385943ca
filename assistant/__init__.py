"""Lepton's brain: one `Assistant` per process answers each message (language, routing, retrieval, composing,
logging); the admin operations every surface calls are in `assistant.operations`.

The public face loads on first use (PEP 562): `import assistant` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.config import Settings, load_settings
    from assistant.pipeline import Assistant
    from assistant.schema import ChatReply
    from assistant.turn import InputError, NotReady

_HOME = {
    "Assistant": "assistant.pipeline",
    "ChatReply": "assistant.schema",
    "InputError": "assistant.turn",
    "NotReady": "assistant.turn",
    "Settings": "assistant.config",
    "load_settings": "assistant.config",
}

__all__ = ["Assistant", "ChatReply", "InputError", "NotReady", "Settings", "load_settings"]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'assistant' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value
