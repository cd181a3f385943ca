"""Where a starting assistant is: the stage it is in and how far along, for `/healthz`, the pages and the log."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

log = logging.getLogger("lepton.startup")

# The stages of `Assistant.warm_up`, in order; a home that needs no step skips it (and its share).
STAGES = (
    "preparing the home",
    "loading the knowledge base",
    "adding the demo knowledge base",
    "loading the intent model",
    "loading the generator",
    "warming up",
)


class Startup:
    """Thread-safe progress of one warm-up: `advance(stage)` logs it; `as_dict()` is what clients see."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.stage = "starting"
        self.step = 0
        self.started = time.time()
        self.ready = False
        self.background: str | None = None  # work that goes on after ready ("training the intent model")

    def advance(self, stage: str) -> None:
        with self._lock:
            self.stage = stage
            self.step = STAGES.index(stage) + 1 if stage in STAGES else self.step
            step, elapsed = self.step, time.time() - self.started
        log.info("startup %d/%d: %s (%.0f s)", step, len(STAGES), stage, elapsed)

    def done(self, background: str | None = None) -> None:
        with self._lock:
            self.ready, self.stage, self.step, self.background = True, "ready", len(STAGES), background
            elapsed = time.time() - self.started
        log.info("ready in %.0f s%s", elapsed, f"; {background} in the background" if background else "")

    def finished_background(self) -> None:
        with self._lock:
            self.background = None

    @property
    def fraction(self) -> float:
        """Share of the stages done (a stage in progress counts half)."""
        with self._lock:
            return 1.0 if self.ready else max(0.0, (self.step - 0.5) / len(STAGES))

    def as_dict(self) -> dict[str, Any]:
        fraction = self.fraction
        with self._lock:
            out: dict[str, Any] = {
                "stage": self.stage,
                "progress": round(fraction, 2),
                "elapsed_s": round(time.time() - self.started, 1),
            }
            if self.background:
                out["background"] = self.background
            return out
