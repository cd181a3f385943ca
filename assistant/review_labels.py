"""Which intent names a reviewer may give a turn: a typo must not become an intent class of its own."""

from __future__ import annotations

import contextlib
import difflib
import json
import re
from collections.abc import Iterable
from typing import Protocol

from assistant.config import Settings
from assistant.learning import stored_base_data
from assistant.model_registries import intent_registry
from knowledge.store import Store
from knowledge.types import Template
from training import OUT_OF_SCOPE, load_intent_csv
from training.review import ReviewQueue

# Letters (any script), digits, `_`, `.` and `-`: what intent names in training CSVs look like.
INTENT_NAME = re.compile(r"[\w.-]{1,120}")


class UnknownIntent(ValueError):
    """A review label that names no intent the assistant knows, and was not declared new."""


class Templates(Protocol):
    def templates(self) -> Iterable[Template]: ...


def known_intents(settings: Settings, kb: Templates | None = None) -> set[str]:
    """The live model's intents, the stored training data's, the templates', earlier reviews' and OOS.

    `kb` is the server's loaded knowledge base; without it the templates are read from the home's kb.db (or `database_url`).
    """
    names = {OUT_OF_SCOPE}
    current = intent_registry(settings).current()
    if current and (current[1] / "labels.json").is_file():
        names.update(json.loads((current[1] / "labels.json").read_text()))
    data = stored_base_data(settings)
    if data:
        with contextlib.suppress(ValueError):  # an empty or foreign CSV: the other sources still count
            names.update(load_intent_csv(data)[1])
    with ReviewQueue.from_settings(settings) as queue:
        names.update(queue.training_examples()[1])
    if kb is None and (settings.database_url is not None or (settings.kb_dir / "kb.db").is_file()):
        store = Store(settings.kb_dir / "kb.db", settings.database_url)
        try:
            names.update(t.intent for t in store.templates())
        finally:
            store.close()
    elif kb is not None:
        names.update(t.intent for t in kb.templates())
    return {n for n in names if n}


def check_label(label: str, known: set[str], *, new: bool = False) -> str:
    """`label` stripped, if it is a known intent (or a well-formed name declared `new`); else UnknownIntent."""
    name = label.strip()
    if not INTENT_NAME.fullmatch(name):
        raise UnknownIntent(
            f"{label!r} is not an intent name: use 1-120 letters, digits, '_', '.' or '-' (e.g. refund_status)"
        )
    if name in known or new:
        return name
    close = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise UnknownIntent(
        f"unknown intent {name!r}.{hint} To teach the assistant a new intent, label it as new "
        '(lepton review label --new, or "new_intent": true).'
    )
