"""One retrain at a time per home, whichever surface asks: the console, the API, the schedule, another process."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

import assistant.operations.retraining as retraining_module
from assistant.config import load_settings
from assistant.learning import RetrainOutcome
from assistant.operations import RetrainRunning, operations_for
from assistant.operations.retrain_schedule import RetrainSchedule
from assistant.operations.retraining import LOCK_FILE, Retraining


class FakeAssistant:
    """What the operations and the console need of an assistant, without loading any model."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.ready, self.store, self.review, self.kb = True, object(), None, None
        self.intent_version: str | None = "v0001"
        self.reloads = 0

    def reload_intents(self) -> str | None:
        self.reloads += 1
        self.intent_version = "v0002"
        return self.intent_version


@pytest.fixture
def slow_retrain(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Retrains that report their stages, then wait for the returned event before promoting v0002."""
    go = threading.Event()

    def fake(settings: Any, files: Any = None, *, progress: Any = None, **kwargs: Any) -> RetrainOutcome:
        progress("training", 0.1)
        assert go.wait(300)
        return RetrainOutcome("v0002", True, "not worse")

    monkeypatch.setattr(retraining_module, "retrain", fake)
    return go


def _other_process_retrain(home: Path) -> subprocess.CompletedProcess:
    """Another process taking the home's retrain file lock (what `lepton train intents` takes), kept light."""
    code = (
        "import fcntl, sys\n"
        f"handle = open({str(home / 'models' / LOCK_FILE)!r}, 'a+')\n"
        "try:\n    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "except BlockingIOError:\n    sys.exit(3)\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_one_retrain_at_a_time_for_every_surface(tmp_path: Path, slow_retrain: threading.Event) -> None:
    from ui.pages.console.training_view import TrainingView

    settings = load_settings(home=tmp_path / "home")
    assistant = FakeAssistant(settings)
    ops = operations_for(assistant)
    assert operations_for(assistant) is ops  # every surface of the process shares it
    console = TrainingView(assistant)  # type: ignore[arg-type]
    assert console.ops is ops

    job = ops.retraining.start(trigger="api")
    assert job["status"] in ("queued", "running") and job["id"]
    with pytest.raises(RetrainRunning):
        ops.retraining.start(trigger="api")
    with pytest.raises(gr.Error, match="already running"):
        console.retrain()
    # Another assistant object on the same home (another server variant, the CLI in this process): refused.
    with pytest.raises(RetrainRunning):
        Retraining(settings).run(trigger="cli")
    # Another process (`lepton train intents` on the same home): refused by the file lock.
    other = _other_process_retrain(settings.home)
    assert other.returncode == 3, other.stderr
    # The schedule skips while it runs, and stays due.
    schedule = RetrainSchedule(ops.retraining, interval_h=1e-9)
    assert schedule.run_once() is None and schedule.due()
    running = ops.retraining.job(job["id"])
    assert running["status"] == "running" and running["stage"] == "training"
    assert "Retraining" in console.retrain_status()
    assert "learning from the examples, 10 %" in console.retrain_status()

    slow_retrain.set()
    for _ in range(300):
        done = ops.retraining.job(job["id"])
        if done["status"] != "running":
            break
        threading.Event().wait(0.05)
    assert done["status"] == "done" and done["version"] == "v0002" and done["promoted"] is True
    assert done["serving"] == "v0002" and assistant.reloads == 1  # the live model was reloaded
    assert ops.retraining.latest() == done
    assert "v0002" in console.retrain_status() and "promoted" in console.retrain_status()
    # Free again: for the other process and for the next job.
    assert _other_process_retrain(settings.home).returncode == 0
    assert not ops.retraining.running()
    outcome = Retraining(settings).run(trigger="cli")
    assert outcome.version == "v0002"


def test_a_retrain_held_by_another_process_refuses_here(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "home")
    settings.models_dir.mkdir(parents=True)
    code = (
        "import fcntl, sys\n"
        f"handle = open({str(settings.models_dir / LOCK_FILE)!r}, 'a+')\n"
        "fcntl.flock(handle, fcntl.LOCK_EX)\nprint('held', flush=True)\nsys.stdin.read()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        jobs = Retraining(settings)
        assert jobs.running()
        with pytest.raises(RetrainRunning, match="another process"):
            jobs.start()
        assert jobs.latest() is None  # nothing was queued
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(30)
    assert not Retraining(settings).running()


def test_a_failed_job_reports_its_error_and_frees_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(settings: Any, **kwargs: Any) -> RetrainOutcome:
        raise ValueError("no training data: give --data FILE.csv first")

    monkeypatch.setattr(retraining_module, "retrain", broken)
    jobs = Retraining(load_settings(home=tmp_path / "home"))
    with pytest.raises(ValueError):
        jobs.run()
    failed = jobs.latest()
    assert failed is not None and failed["status"] == "failed" and "no training data" in failed["error"]
    assert failed["finished_at"] >= failed["started_at"] and not jobs.running()
    with pytest.raises(Exception, match="no retrain job"):
        jobs.job("nope")


def test_a_running_job_tells_its_time_left_and_a_finished_one_its_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui.pages.console.training_view import TrainingView

    step, go = threading.Event(), threading.Event()

    def fake(settings: Any, files: Any = None, *, progress: Any = None, **kwargs: Any) -> RetrainOutcome:
        progress("reading data", 0.0)
        progress("training", 0.1)
        assert step.wait(300)
        progress("training", 0.45)  # half of training done: as long again to go
        assert go.wait(300)
        m = {"heldout": {"accuracy": 0.913}, "compared_with": {"version": "v0001", "accuracy": 0.901}}
        return RetrainOutcome("v0002", True, "promote: not worse", m, previous="v0001")

    monkeypatch.setattr(retraining_module, "retrain", fake)
    assistant = FakeAssistant(load_settings(home=tmp_path / "home"))
    ops, console = operations_for(assistant), TrainingView(assistant)  # type: ignore[arg-type]
    job = ops.retraining.start(trigger="console")
    assert job["eta_s"] is None and job["verdict"] is None
    for _ in range(300):
        if ops.retraining.job(job["id"])["stage"] == "training":
            break
        threading.Event().wait(0.02)
    assert ops.retraining.job(job["id"])["eta_s"] is None  # nothing has moved yet: no guess
    threading.Event().wait(1.2)
    step.set()
    for _ in range(300):
        running = ops.retraining.job(job["id"])
        if running["progress"] > 0.1:
            break
        threading.Event().wait(0.02)
    # 0.35 of the run took about 1.2 s; 0.55 is left: about 1.9 s, counting down between reports.
    assert 1.0 < running["eta_s"] < 4.0, running
    threading.Event().wait(0.5)
    assert ops.retraining.job(job["id"])["eta_s"] < running["eta_s"]
    bar, line, key = console.retrain_progress()
    assert '<progress value="45.0" max="100"' in bar and "learning from the examples" in bar and "left" in bar
    assert "learning from the examples, 45 %" in line and key == f"{job['id']}:running"
    assert "progress_at" not in running  # bookkeeping stays inside

    go.set()
    for _ in range(300):
        done = ops.retraining.job(job["id"])
        if done["status"] != "running":
            break
        threading.Event().wait(0.02)
    assert done["status"] == "done" and done["eta_s"] == 0.0 and done["previous"] == "v0001"
    assert done["verdict"] == (
        "v0002 answers 1.2 % more test questions correctly than v0001 (91.3 % against 90.1 %): promoted."
    )
    bar, line, key = console.retrain_progress()
    assert bar == "" and key == f"{job['id']}:done"
    assert "1.2 % more test questions correctly than v0001" in line and "Serving **v0002**" in line


def test_a_failed_job_has_a_verdict_saying_nothing_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(settings: Any, **kwargs: Any) -> RetrainOutcome:
        raise ValueError("no training data: give --data FILE.csv first")

    monkeypatch.setattr(retraining_module, "retrain", broken)
    jobs = Retraining(load_settings(home=tmp_path / "home"))
    with pytest.raises(ValueError):
        jobs.run()
    failed = jobs.latest()
    assert failed is not None and failed["eta_s"] is None
    assert failed["verdict"] == (
        "The retrain failed: no training data: give --data FILE.csv first; the current model keeps answering."
    )
