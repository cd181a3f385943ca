"""First start of a home: the bundled demo knowledge base and its intent model."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from assistant.config import Settings
from knowledge import KnowledgeBase, demo_paths
from training import ModelRegistry, TrainConfig, load_intent_csv, train_intent_model

log = logging.getLogger("lepton.bootstrap")

DEMO_INTENTS = Path(__file__).resolve().parent.parent / "knowledge" / "demo" / "intents"


def demo_intent_files() -> list[Path]:
    return sorted(DEMO_INTENTS.glob("*.csv"))


def data_fingerprint(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def train_and_promote(settings: Settings, files: list[Path], config: TrainConfig | None = None) -> str:
    """Train an intent model on `files`, register it, and make it current; returns the version."""
    texts, labels = load_intent_csv(files)
    work = settings.models_dir / "tmp-train"
    result = train_intent_model(texts, labels, work, config=config)
    registry = ModelRegistry(settings.intents_dir)
    version = registry.register(
        result.out_dir, metrics=result.metrics, data_fingerprint=data_fingerprint(files), config=result.config
    )
    registry.promote(version)
    return version


def prepare_demo(settings: Settings, kb: KnowledgeBase) -> None:
    """Ingest the demo knowledge base and train its intent model, unless the home already has them."""
    if kb.stats().get("chunks", 0) == 0:
        log.info("ingesting the demo knowledge base")
        report = kb.ingest(demo_paths())
        log.info("demo knowledge base: %s", report)
    if ModelRegistry(settings.intents_dir).current() is None:
        log.info("training the demo intent model (a few minutes on CPU)")
        version = train_and_promote(settings, demo_intent_files())
        log.info("demo intent model %s promoted", version)
