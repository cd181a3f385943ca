"""The learning loop: retrain the intent model on the original data plus reviewed turns, promote if not worse."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sklearn.metrics import accuracy_score, f1_score

from assistant.config import Settings
from assistant.model_registries import intent_registry
from knowledge.redaction import redact
from training import (
    IntentClassifier,
    ModelRegistry,
    TrainConfig,
    load_intent_csv,
    should_promote,
    train_intent_model,
)
from training.review import ReviewQueue

log = logging.getLogger("lepton.learning")
HELDOUT_SHARE = 10  # one text in ten (chosen by hash, so every model sees the same split) is never trained on


@dataclass
class RetrainOutcome:
    version: str
    promoted: bool
    reason: str
    metrics: dict[str, Any] = field(default_factory=dict)
    # The model serving when the retrain began and its scores on the candidate's held-out set (None: none).
    previous: str | None = None
    previous_heldout: dict[str, Any] | None = None


def base_data_dir(settings: Settings) -> Path:
    return settings.intents_dir / "data"


def _is_heldout(text: str) -> bool:
    return int(hashlib.sha1(text.strip().lower().encode()).hexdigest(), 16) % HELDOUT_SHARE == 0


def split_heldout(texts: list[str], labels: list[str]) -> tuple[list[str], list[str], list[str], list[str]]:
    """(train texts, train labels, held-out texts, held-out labels), the split fixed by each text's hash."""
    tx, ty, hx, hy = [], [], [], []
    for text, label in zip(texts, labels, strict=True):
        (hx if _is_heldout(text) else tx).append(text)
        (hy if _is_heldout(text) else ty).append(label)
    return tx, ty, hx, hy


def _fingerprint(pairs: Iterable[tuple[str, str]]) -> str:
    return hashlib.sha256("\n".join(f"{t}\t{y}" for t, y in pairs).encode()).hexdigest()


def score_on(model_dir: Path, texts: list[str], labels: list[str]) -> dict[str, Any]:
    """Held-out accuracy and macro-F1 of the model in `model_dir`, with the held-out set's fingerprint."""
    clf = IntentClassifier.load(model_dir)
    clf.warm_up()
    predicted = [p.name for p in clf.predict(texts)]
    heldout_id = _fingerprint(sorted(zip(texts, labels, strict=True)))[:12]
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "macro_f1": float(f1_score(labels, predicted, average="macro", zero_division=0)),
        "heldout_id": heldout_id,
        "heldout_size": len(texts),
    }


def _store_base_data(settings: Settings, files: list[Path]) -> None:
    """Make `files` the stored original training data (replacing the earlier set), so later retrains start from
    them. The new set is staged next to the old one and swapped in by renames; `stored_base_data` repairs the
    one gap a crash can leave (old set moved aside, new one not yet in place)."""
    target = base_data_dir(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".data-new-", dir=target.parent))
    for n, f in enumerate(files):
        name = f.name if f.name.endswith(".csv") else f"{f.name}.csv"
        # Two files of one name (from different folders) must not overwrite each other.
        shutil.copyfile(f, staging / (name if not (staging / name).exists() else f"{n}-{name}"))
    aside = target.with_name(f".data-old-{os.getpid()}")
    if target.exists():
        os.replace(target, aside)
    os.replace(staging, target)
    shutil.rmtree(aside, ignore_errors=True)


def stored_base_data(settings: Settings) -> list[Path]:
    """The stored original training data (CSV files), after repairing an interrupted swap."""
    target = base_data_dir(settings)
    if not target.exists():
        aside = sorted(target.parent.glob(".data-old-*"))
        if aside:
            os.replace(aside[-1], target)
    return sorted(target.glob("*.csv"))


def sweep_stale_work(models_dir: Path) -> list[Path]:
    """Remove `train-PID-*` work folders whose process is gone (a retrain killed with -9); return them."""
    removed = []
    for work in Path(models_dir).glob("train-*"):
        parts = work.name.split("-")
        pid = int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else None
        if pid is not None and (pid == os.getpid() or _alive(pid)):
            continue  # a retrain is running right now
        shutil.rmtree(work, ignore_errors=True)
        removed.append(work)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def retrain(
    settings: Settings,
    files: list[Path] | None = None,
    *,
    from_logs: bool = False,
    config: TrainConfig | None = None,
    always_promote: bool = False,
    progress: Callable[[str, float], None] | None = None,
) -> RetrainOutcome:
    """Train on `files` (or the stored original data) plus reviewed turns, then promote by the rule.

    `progress(stage, fraction)` hears each stage as it starts (reading data, training, scoring, comparing) and,
    while training, every optimizer step (the fraction moves from 0.1 to 0.8 within the "training" stage).

    Promotion rule (training.should_promote): the candidate's macro-F1 on the fixed held-out set must not be
    more than 0.5 point below the current model's, nor below the best model ever promoted, on the same set. A crash anywhere before the pointer is
    replaced leaves the current model serving.
    """
    report = progress or (lambda stage, fraction: None)
    report("reading data", 0.0)
    read_at = time.time()  # reviews after this are not in this model: the schedule counts from here
    new_data = list(files or [])
    files = new_data or stored_base_data(settings)
    if not files:
        raise ValueError("no training data: give --data FILE.csv first")
    # Read (and so check) the files where they are: bad data fails here and is never stored in the home.
    texts, labels = load_intent_csv(files)
    texts = [redact(t) for t in texts]
    reviewed = 0
    if from_logs:
        with ReviewQueue.from_settings(settings) as queue:
            rx, ry = queue.training_examples()
        texts, labels, reviewed = texts + rx, labels + ry, len(rx)
    train_x, train_y, held_x, held_y = split_heldout(texts, labels)
    registry = intent_registry(settings)
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    sweep_stale_work(settings.models_dir)
    work = Path(tempfile.mkdtemp(prefix=f"train-{os.getpid()}-", dir=settings.models_dir))
    try:
        started = time.perf_counter()
        # Customer data is multilingual: blend in the multilingual-e5 head unless told otherwise.
        cfg = config or TrainConfig(multilingual_head=True)
        if settings.intent_refit:
            cfg = replace(cfg, refit=True)
        report("training", 0.1)
        result = train_intent_model(
            train_x,
            train_y,
            work / "model",
            config=cfg,
            on_progress=lambda fraction: report("training", 0.1 + 0.7 * fraction),
        )
        metrics = {
            **result.metrics,
            "train_seconds": round(time.perf_counter() - started, 1),
            "reviewed_examples": reviewed,
            "reviewed_until": read_at,
        }
        report("scoring", 0.8)
        heldout = score_on(result.out_dir, held_x, held_y) if held_x else {}
        metrics["heldout"] = heldout
        report("comparing", 0.9)
        current = registry.current()
        current_scores = score_on(current[1], held_x, held_y) if current and held_x else None
        if current is not None:  # what the verdict compares: the model serving then, on the same questions
            metrics["compared_with"] = {"version": current[0], **(current_scores or {})}
        digest = _fingerprint(zip(texts, labels, strict=True))[:16]
        version = registry.register(
            result.out_dir, metrics=metrics, data_fingerprint=digest, config=result.config
        )
        if new_data:  # a model trained on it exists: now it is the data later retrains start from
            _store_base_data(settings, new_data)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    best_scores = _best_promoted_scores(registry, current, version, held_x, held_y)
    ok, reason = (
        should_promote(heldout, current_scores, best_scores) if heldout else (True, "no held-out data")
    )
    if always_promote and not ok:
        ok, reason = True, f"promoted on request ({reason})"
    if ok:
        registry.promote(version)
    log.info("intent model %s: %s", version, reason)
    return RetrainOutcome(
        version,
        ok,
        reason,
        metrics,
        previous=current[0] if current else None,
        previous_heldout=current_scores,
    )


def _best_promoted_scores(
    registry: ModelRegistry,
    current: tuple[str, Path] | None,
    candidate: str,
    held_x: list[str],
    held_y: list[str],
) -> dict[str, Any] | None:
    """The held-out scores of the best model ever promoted other than the current one (picked by the macro-F1
    it recorded when it was trained, then re-scored on today's held-out set); None when there is none."""
    if not held_x:
        return None
    earlier = [v for v in registry.promoted() if v not in (candidate, current[0] if current else None)]
    recorded = []
    for v in earlier:
        f1 = registry.metadata(v).get("metrics", {}).get("heldout", {}).get("macro_f1")
        if f1 is not None:
            recorded.append((float(f1), v))
    if not recorded:
        return None
    _, version = max(recorded)
    return {**score_on(registry.path_of(version), held_x, held_y), "version": version}
