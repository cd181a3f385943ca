"""The retrain schedule: every N newly reviewed turns and/or every H hours, through the one retrain job.

"Since the last retrain" is read from what every replica shares, not counted per process: the reviews are the
review queue's items confirmed or corrected after that time (`reviewed_at`), and the last retrain is the newest
intent model version in the registry (the shared `artifact_dir` on replicas), from the moment it read its data.
So N replicas on one database retrain once per N reviews or H hours between them: the first to find it due
takes the retrain lock, and the others then count from its new version. A process counts from its own start
at the earliest (as on one machine) and, after a run of its own that failed, from that run.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from assistant.learning import RetrainOutcome
from assistant.model_registries import intent_registry
from assistant.operations.retraining import Retraining, RetrainRunning
from training.review import ReviewQueue

log = logging.getLogger("lepton.learning")


class RetrainSchedule:
    """Retrain in the background every `every_reviewed` newly reviewed turns and/or every `interval_h` hours
    (as a job of `retraining`: skipped while another retrain runs, here or on another replica, and retried at
    the next poll)."""

    def __init__(self, retraining: Retraining, every_reviewed: int = 0, interval_h: float = 0) -> None:
        self.retraining, self.settings = retraining, retraining.settings
        self.every_reviewed, self.interval_h = every_reviewed, interval_h
        self._stop = threading.Event()
        self._floor = time.time()  # this process's start, then its last own attempt

    def since(self) -> float:
        """Unix time the schedule counts from: the last retrain on any replica, this process's start or its
        last own attempt, whichever is latest."""
        return max(self._floor, last_retrain_at(self.retraining))

    def reviewed_since_last(self) -> int:
        with ReviewQueue.from_settings(self.settings) as queue:
            return queue.reviewed_since(self.since())

    def due(self) -> bool:
        if self.every_reviewed and self.reviewed_since_last() >= self.every_reviewed:
            return True
        return bool(self.interval_h) and time.time() - self.since() >= self.interval_h * 3600

    def run_once(self) -> RetrainOutcome | None:
        """Retrain if due and no other retrain runs; the outcome, or None when nothing ran."""
        if not self.due():
            return None
        before, self._floor = self._floor, time.time()  # a failed run waits its turn
        try:
            return self.retraining.run(from_logs=True, trigger="schedule")
        except RetrainRunning:
            self._floor = before  # not run: due again at the next poll (unless the other run covers it)
            log.info("scheduled retrain skipped: another retrain is running")
            return None

    def start(self, poll_s: float = 60.0) -> None:
        if not (self.every_reviewed or self.interval_h):
            return

        def loop() -> None:
            while not self._stop.wait(poll_s):
                try:
                    self.run_once()
                except Exception:
                    log.exception("scheduled retrain failed; the current model keeps serving")

        threading.Thread(target=loop, daemon=True, name="retrain-schedule").start()

    def stop(self) -> None:
        self._stop.set()


def last_retrain_at(retraining: Retraining) -> float:
    """When the newest intent model version read its training data (its registration time for versions made
    before that was recorded); 0.0 when there is none. Reads the registry every replica shares."""
    versions = intent_registry(retraining.settings).list()
    if not versions:
        return 0.0
    newest = versions[-1]
    until = (newest.get("metrics") or {}).get("reviewed_until")
    if isinstance(until, (int, float)):
        return float(until)
    try:
        return datetime.strptime(newest.get("created", ""), "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except ValueError:
        return 0.0
