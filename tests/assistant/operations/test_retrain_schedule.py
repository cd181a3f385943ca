"""The retrain schedule counts "reviewed since the last retrain" from what the replicas share: two replicas on
one database (or two schedules on one home) retrain once per N reviews between them, never each, and a
generator training run takes the same retrain lock as the intents."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import assistant.operations.retraining as retraining_module
from assistant.config import load_settings
from assistant.learning import RetrainOutcome
from assistant.model_registries import intent_registry
from assistant.operations.retrain_lock import retrain_lock
from assistant.operations.retrain_schedule import RetrainSchedule, last_retrain_at
from assistant.operations.retraining import Retraining
from training.review import ReviewQueue


@pytest.fixture
def registering_retrain(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """Retrains that register a version (not promoted) as the real one does, from the moment they read the
    review queue; returns the homes they ran for, in order."""
    ran: list[str] = []
    model = tmp_path / "model"
    model.mkdir()
    (model / "weights.bin").write_bytes(b"0")

    def fake(settings: Any, files: Any = None, **kwargs: Any) -> RetrainOutcome:
        read_at = time.time()
        ran.append(str(settings.home))
        version = intent_registry(settings).register(
            model, metrics={"reviewed_until": read_at}, data_fingerprint="x", config={}
        )
        return RetrainOutcome(version, False, "keep current: not better")

    monkeypatch.setattr(retraining_module, "retrain", fake)
    return ran


def _review(settings: Any, n: int) -> None:
    """`n` turns queued and confirmed by a reviewer."""
    with ReviewQueue.from_settings(settings) as queue:
        for _ in range(n):
            tag = time.monotonic_ns()
            queue.add(
                f"turn-{tag}", f"question {tag}", "low_confidence", predicted="greeting", confidence=0.4
            )
        for item in queue.items():
            queue.resolve(item["id"], "greeting")


def _replicas(database_url: str | None, tmp_path: Path) -> list[Any]:
    """Two replicas' settings: on PostgreSQL two homes with one artifact folder; on SQLite one home."""
    if database_url is None:
        one = load_settings(home=tmp_path / "home")
        return [one, one]
    shared = tmp_path / "artifacts"
    return [
        load_settings(home=tmp_path / name, database_url=database_url, artifact_dir=shared)
        for name in ("replica-a", "replica-b")
    ]


def test_replicas_retrain_once_per_n_reviews_between_them(
    database_url: str | None, tmp_path: Path, registering_retrain: list[str]
) -> None:
    a, b = (RetrainSchedule(Retraining(s), every_reviewed=3) for s in _replicas(database_url, tmp_path))
    assert last_retrain_at(a.retraining) == 0.0 and not a.due() and not b.due()
    _review(a.settings, 2)
    assert (a.reviewed_since_last(), b.reviewed_since_last()) == (2, 2) and not b.due()
    _review(b.settings, 1)  # reviewed through the other replica: the same count on both
    assert a.due() and b.due()

    assert a.run_once() is not None and len(registering_retrain) == 1
    assert last_retrain_at(b.retraining) > 0  # a's new version, seen by b
    assert b.reviewed_since_last() == 0 and not b.due()
    assert b.run_once() is None and len(registering_retrain) == 1  # b does not retrain the same reviews

    _review(a.settings, 3)
    assert a.due() and b.due()
    assert b.run_once() is not None and a.run_once() is None  # whoever polls first; then the other is quiet
    assert len(registering_retrain) == 2 and registering_retrain[-1] == str(b.settings.home)
    # A replica started later counts from the last retrain too (never from zero), and from its own start.
    c = RetrainSchedule(Retraining(a.settings), every_reviewed=3)
    assert c.reviewed_since_last() == 0 and not c.due()


def test_a_held_lock_leaves_the_schedule_due_and_the_interval_counts_from_the_last_retrain(
    database_url: str | None, tmp_path: Path, registering_retrain: list[str]
) -> None:
    a, b = (RetrainSchedule(Retraining(s), interval_h=1 / 3600) for s in _replicas(database_url, tmp_path))
    a._floor = b._floor = time.time() - 2  # both started 2 s ago: an interval of 1 s has passed
    assert a.due() and b.due()
    lock = retrain_lock(b.settings)  # a retrain running elsewhere
    lock.acquire()
    try:
        assert a.run_once() is None and a.due() and registering_retrain == []
    finally:
        lock.release()
    assert a.run_once() is not None
    assert not b.due()  # b counts its hour from a's retrain, not from its own start


def test_training_the_generator_is_refused_while_a_retrain_runs(
    database_url: str | None, tmp_path: Path, run_cli
) -> None:
    from typer.testing import CliRunner

    from ui.cli.train_cmd import train_app

    home = tmp_path / "home"
    env = {"LEPTON_DATABASE_URL": database_url} if database_url else {}
    # Another process (a replica with its own home, on PostgreSQL) holds the retrain lock.
    holder = load_settings(home=tmp_path / "elsewhere" if database_url else home, database_url=database_url)
    lock = retrain_lock(holder)
    lock.acquire()
    try:
        refused = run_cli("train", "generator", home=home, env=env, timeout=600)
    finally:
        lock.release()
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "already running" in refused.stderr and "Traceback" not in refused.stderr
    # Free again: the run goes on to read its pairs (none here), says so, and leaves the lock free.
    args = ["generator", "--home", str(home)]
    free = CliRunner().invoke(train_app, args, env={**env, "COLUMNS": "1000"})
    assert free.exit_code == 2 and "approved question/answer pairs" in free.output, free.output
    lock.acquire()
    lock.release()
