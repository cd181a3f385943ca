"""Lepton knowledge base: ingestion, chunking, hybrid retrieval and answer templates.

The public names below load on first use (PEP 562), so `import knowledge.redaction` stays cheap: Chroma and the
embedders load only with the knowledge base.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

# Everything runs offline: models are bundled, nothing may be downloaded at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

if TYPE_CHECKING:
    from knowledge.demo_data import demo_paths
    from knowledge.embedders import Embedder, make_embedder
    from knowledge.kb import DEFAULT_MIN_SCORE, KnowledgeBase
    from knowledge.types import Hit, IngestReport, Template

_HOME = {
    "DEFAULT_MIN_SCORE": "knowledge.kb",
    "Embedder": "knowledge.embedders",
    "Hit": "knowledge.types",
    "IngestReport": "knowledge.types",
    "KnowledgeBase": "knowledge.kb",
    "Template": "knowledge.types",
    "demo_paths": "knowledge.demo_data",
    "make_embedder": "knowledge.embedders",
}

__all__ = [
    "DEFAULT_MIN_SCORE",
    "Embedder",
    "Hit",
    "IngestReport",
    "KnowledgeBase",
    "Template",
    "demo_paths",
    "make_embedder",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'knowledge' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value
