"""First start of a home: the bundled demo knowledge base and its intent model."""

from __future__ import annotations

import logging
from pathlib import Path

import knowledge
from assistant.config import Settings
from assistant.model_registries import intent_registry
from knowledge import KnowledgeBase, demo_paths

log = logging.getLogger("lepton.bootstrap")

DEMO_INTENTS = Path(knowledge.__file__).resolve().parent / "demo" / "intents"


def demo_intent_files() -> list[Path]:
    return sorted(DEMO_INTENTS.glob("*.csv"))


def ingest_demo(kb: KnowledgeBase) -> None:
    """Ingest the demo knowledge base into an empty one; in a filled one, follow the bundled templates files."""
    if kb.stats().get("chunks", 0) == 0:
        log.info("ingesting the demo knowledge base")
        report = kb.ingest(demo_paths())
        log.info("demo knowledge base: %s", report)
    else:
        # The demo's templates files (and the slots they declare) follow the bundled ones; an unchanged file
        # is skipped by its hash, so this costs a read, and console edits of templates stay.
        kb.ingest([p for p in demo_paths() if p.is_file()])


def needs_demo_model(settings: Settings) -> bool:
    """The home has no intent model yet: the demo trains its first one."""
    return intent_registry(settings).current() is None
