"""Lepton knowledge base: ingestion, chunking, hybrid retrieval and answer templates."""

from __future__ import annotations

import os

# Everything runs offline: models are bundled, nothing may be downloaded at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from knowledge.demo_data import demo_paths  # noqa: E402
from knowledge.embedders import Embedder, make_embedder  # noqa: E402
from knowledge.kb import DEFAULT_MIN_SCORE, KnowledgeBase  # noqa: E402
from knowledge.types import Hit, IngestReport, Template  # noqa: E402

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
