"""Intent-model training, evaluation and versioning for Lepton (fully offline)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from training.classifier import IntentClassifier, IntentPrediction  # noqa: E402
from training.config import OUT_OF_SCOPE, TrainConfig, TrainResult  # noqa: E402
from training.data import load_intent_csv  # noqa: E402
from training.promotion import should_promote  # noqa: E402
from training.registry import ModelRegistry  # noqa: E402
from training.trainer import train_intent_model  # noqa: E402

__all__ = [
    "OUT_OF_SCOPE",
    "IntentClassifier",
    "IntentPrediction",
    "ModelRegistry",
    "TrainConfig",
    "TrainResult",
    "load_intent_csv",
    "should_promote",
    "train_intent_model",
]
