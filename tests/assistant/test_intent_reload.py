"""The live intent model follows the registry's pointer: a promotion seen at once by the model watch and by the
admin's promote is loaded once, and both callers get the version now serving."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

import assistant.pipeline as pipeline_module
from assistant.config import load_settings
from assistant.model_registries import intent_registry
from assistant.pipeline import Assistant


class SlowModel:
    """Stands in for the classifier: loading it takes a moment, as the real one's warm-up does."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def warm_up(self) -> None:
        time.sleep(0.3)


def test_a_promotion_asked_for_twice_at_once_is_loaded_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(home=tmp_path / "home")
    registry = intent_registry(settings)
    model = tmp_path / "model"
    model.mkdir()
    (model / "labels.json").write_text("[]")
    version = registry.register(model, metrics={}, data_fingerprint="x", config={})
    registry.promote(version)
    loads: list[Path] = []

    def build(path: Path) -> Any:
        loads.append(path)
        return SlowModel(path)

    monkeypatch.setattr(pipeline_module, "build_intent_model", build)
    assistant = Assistant(settings)
    served: list[str | None] = []
    callers = [threading.Thread(target=lambda: served.append(assistant.reload_intents())) for _ in range(2)]
    for caller in callers:  # the model watch and an admin's promote
        caller.start()
    for caller in callers:
        caller.join(30)
    assert served == [version, version] and assistant.intent_version == version
    assert loads == [registry.path_of(version)]  # loaded once
    assert assistant.reload_intents() == version and len(loads) == 1  # unchanged: nothing to load


def test_a_first_model_trained_by_another_replica_is_waited_for_not_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Replicas starting together on a new home's shared models: one trains the first model, the others (their
    retrain refused) say so and let the model watch load it."""
    from assistant.operations.retrain_lock import retrain_lock

    settings = load_settings(home=tmp_path / "home", demo=True)
    other = retrain_lock(settings)  # the replica that trains it (here: the same home's lock, taken)
    other.acquire()
    try:
        assistant = Assistant(settings)
        assistant.ready = True  # a server answers from retrieval meanwhile
        with caplog.at_level("INFO", logger="lepton.assistant"):
            assistant._train_demo_model()
    finally:
        other.release()
    assert [r.levelname for r in caplog.records if r.levelname in ("ERROR", "WARNING")] == []
    assert "once it is promoted" in caplog.text
