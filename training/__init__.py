"""Intent-model training, evaluation and versioning for Lepton (fully offline).

The public names below load on first use (PEP 562), so `import training.review` or `training.registry` stays
cheap: torch and transformers load only with the classifier or the trainer.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

if TYPE_CHECKING:
    from training.classifier import IntentClassifier, IntentPrediction
    from training.data import load_intent_csv
    from training.promotion import should_promote
    from training.registry import ModelRegistry
    from training.train_config import OUT_OF_SCOPE, TrainConfig, TrainResult
    from training.trainer import train_intent_model

_HOME = {
    "IntentClassifier": "training.classifier",
    "IntentPrediction": "training.classifier",
    "OUT_OF_SCOPE": "training.train_config",
    "TrainConfig": "training.train_config",
    "TrainResult": "training.train_config",
    "load_intent_csv": "training.data",
    "should_promote": "training.promotion",
    "ModelRegistry": "training.registry",
    "train_intent_model": "training.trainer",
}

__all__ = [
    "IntentClassifier",
    "IntentPrediction",
    "ModelRegistry",
    "OUT_OF_SCOPE",
    "TrainConfig",
    "TrainResult",
    "load_intent_csv",
    "should_promote",
    "train_intent_model",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'training' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value
