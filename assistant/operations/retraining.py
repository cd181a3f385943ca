"""Retraining the intent model as a job: one at a time per home (or per database, across replicas), whichever
surface or process asks.

The console, the REST API, the schedule and `lepton train intents` all come here. A job holds the retrain lock
for its whole run (assistant/operations/retrain_lock.py): this process's lock plus an exclusive `flock` on
HOME/models/retrain.lock, or with `database_url` a PostgreSQL advisory lock that every replica asks for. A
second start while one runs is refused with `RetrainRunning` (REST: 409).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.learning import RetrainOutcome, retrain
from assistant.model_registries import intent_registry
from assistant.operations.operation_errors import NotFound
from assistant.operations.retrain_lock import LOCK_FILE, RetrainRunning, retrain_lock
from assistant.retrain_verdict import estimate_eta, failed_verdict, verdict

__all__ = ["LOCK_FILE", "RetrainRunning", "Retraining"]  # the lock's names stay importable from here

log = logging.getLogger("lepton.retrain")
KEEP_JOBS = 50


class Retraining:
    """Start, run and report retrain jobs of one home; `on_promoted` reloads the live model after a promotion
    and returns the version now serving."""

    def __init__(self, settings: Settings, on_promoted: Callable[[], str | None] | None = None) -> None:
        self.settings = settings
        self.on_promoted = on_promoted
        self.lock = retrain_lock(settings)
        self._jobs: dict[str, dict[str, Any]] = {}
        self._guard = threading.Lock()

    # -- reading -------------------------------------------------------------------------------------
    def latest(self) -> dict[str, Any] | None:
        """The most recent job of this process (a copy), or None."""
        with self._guard:
            return _as_read(list(self._jobs.values())[-1]) if self._jobs else None

    def job(self, job_id: str) -> dict[str, Any]:
        """One job by id (a copy); NotFound for an unknown id."""
        with self._guard:
            found = self._jobs.get(job_id)
            if found is None:
                raise NotFound(f"no retrain job {job_id!r}")
            return _as_read(found)

    def running(self) -> bool:
        return self.lock.held()

    # -- starting ------------------------------------------------------------------------------------
    def start(self, *, trigger: str = "admin", from_logs: bool = True) -> dict[str, Any]:
        """Start a retrain in the background (original data plus reviewed turns); returns the queued job.
        RetrainRunning when one is already running."""
        job = self._begin(trigger)
        kwargs = {"from_logs": from_logs}
        threading.Thread(target=self._work, args=(job, kwargs, False), daemon=True, name="retrain").start()
        with self._guard:
            return _as_read(job)

    def run(
        self,
        files: list[Path] | None = None,
        *,
        from_logs: bool = False,
        config: Any = None,
        always_promote: bool = False,
        trigger: str = "cli",
    ) -> RetrainOutcome:
        """Retrain now, in this thread (the CLI, the schedule); the same lock and job record as `start`.
        RetrainRunning when one is already running; a failed run raises its error."""
        job = self._begin(trigger)
        kwargs = {"files": files, "from_logs": from_logs, "config": config, "always_promote": always_promote}
        outcome = self._work(job, kwargs, True)
        assert outcome is not None
        return outcome

    def _begin(self, trigger: str) -> dict[str, Any]:
        self.lock.acquire()
        job: dict[str, Any] = {
            "id": uuid.uuid4().hex[:12],
            "status": "queued",
            "trigger": trigger,
            "queued_at": time.time(),
            "stage": "queued",
            "progress": 0.0,
            "eta_s": None,  # seconds left (counting down between progress reports); None while unknown
            "verdict": None,  # the outcome in one plain line, once done or failed
        }
        with self._guard:
            self._jobs[job["id"]] = job
            while len(self._jobs) > KEEP_JOBS:
                self._jobs.pop(next(iter(self._jobs)))
        return job

    def _update(self, job: dict[str, Any], **fields: Any) -> None:
        with self._guard:
            job.update(fields)

    def _work(self, job: dict[str, Any], kwargs: dict[str, Any], reraise: bool) -> RetrainOutcome | None:
        self._update(job, status="running", started_at=time.time())
        pace: dict[str, float] = {}  # when training began and the progress then: the ETA's pace

        def progress(stage: str, fraction: float) -> None:
            now = time.time()
            if stage == "training" and not pace:
                pace.update(since=now, progress=fraction)
            eta = estimate_eta(pace["since"], pace["progress"], fraction, now) if pace else None
            self._update(
                job,
                stage=stage,
                progress=round(fraction, 3),
                eta_s=None if eta is None else round(eta, 1),
                progress_at=now,
            )

        try:
            outcome = retrain(self.settings, progress=progress, **kwargs)
            serving = None
            if outcome.promoted and self.on_promoted is not None:
                progress("loading the promoted model", 0.95)
                serving = self.on_promoted()
            self._update(
                job,
                status="done",
                stage="done",
                progress=1.0,
                eta_s=0.0,
                version=outcome.version,
                promoted=outcome.promoted,
                reason=outcome.reason,
                serving=serving,
                previous=outcome.previous,
                verdict=verdict(outcome.version, outcome.promoted, outcome.reason, outcome.metrics),
            )
            return outcome
        except Exception as exc:  # the current model keeps serving; the admin sees why
            log.exception("retrain failed")
            current = _current_version(self.settings)
            self._update(
                job, status="failed", error=str(exc), eta_s=None, verdict=failed_verdict(str(exc), current)
            )
            if reraise:
                raise
            return None
        finally:
            self._update(job, finished_at=time.time())
            self.lock.release()


def _as_read(job: dict[str, Any]) -> dict[str, Any]:
    """A copy of `job` as read now: a running job's ETA counts down from its last progress report."""
    out = dict(job)
    eta, at = out.get("eta_s"), out.pop("progress_at", None)
    if out.get("status") == "running" and eta is not None and at is not None:
        out["eta_s"] = round(max(0.0, eta - (time.time() - at)), 1)
    return out


def _current_version(settings: Settings) -> str | None:
    """The intent model version the home's pointer names (None when there is none or it cannot be read)."""
    try:
        current = intent_registry(settings).current()
    except Exception:  # only for a message: never fail the failure report
        return None
    return current[0] if current else None
