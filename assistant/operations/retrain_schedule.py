"""The retrain schedule: every N newly reviewed turns and/or every H hours, through the one retrain job."""

from __future__ import annotations

import logging
import threading
import time

from assistant.learning import RetrainOutcome
from assistant.operations.retraining import Retraining, RetrainRunning
from training.review import ReviewQueue

log = logging.getLogger("lepton.learning")


class RetrainSchedule:
    """Retrain in the background every `every_reviewed` newly reviewed turns and/or every `interval_h` hours
    (as a job of `retraining`: skipped while another retrain runs, retried at the next poll)."""

    def __init__(self, retraining: Retraining, every_reviewed: int = 0, interval_h: float = 0) -> None:
        self.retraining, self.settings = retraining, retraining.settings
        self.every_reviewed, self.interval_h = every_reviewed, interval_h
        self._stop = threading.Event()
        self._last_count = self._reviewed_count()
        self._last_run = time.time()

    def _reviewed_count(self) -> int:
        with ReviewQueue.from_settings(self.settings) as queue:
            counts = queue.counts()
        return counts.get("confirmed", 0) + counts.get("corrected", 0)

    def due(self) -> bool:
        if self.every_reviewed and self._reviewed_count() - self._last_count >= self.every_reviewed:
            return True
        return bool(self.interval_h) and time.time() - self._last_run >= self.interval_h * 3600

    def run_once(self) -> RetrainOutcome | None:
        """Retrain if due and no other retrain runs; the outcome, or None when nothing ran."""
        if not self.due():
            return None
        before = self._last_count, self._last_run
        self._last_count, self._last_run = self._reviewed_count(), time.time()  # a failed run waits its turn
        try:
            return self.retraining.run(from_logs=True, trigger="schedule")
        except RetrainRunning:
            self._last_count, self._last_run = before  # not run: due again at the next poll
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
