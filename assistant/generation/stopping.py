"""A StoppingCriteria that ends generation at a deadline or on cancellation."""

from __future__ import annotations

import threading
import time

from transformers import StoppingCriteria


class DeadlineCriteria(StoppingCriteria):
    """Stop once `time.monotonic()` passes `deadline` or `cancel` is set; remembers which."""

    def __init__(self, deadline: float, cancel: threading.Event | None = None) -> None:
        self.deadline = deadline
        self.cancel = cancel or threading.Event()
        self.fired: str | None = None

    def check(self) -> bool:
        """True (and `fired` set) once cancelled or past the deadline."""
        if self.cancel.is_set():
            self.fired = "cancelled"
        elif time.monotonic() >= self.deadline:
            self.fired = "timeout"
        return self.fired is not None

    def __call__(self, input_ids, scores, **kwargs):  # noqa: ANN001 - transformers signature
        import torch

        self.check()
        return torch.full(
            (input_ids.shape[0],), self.fired is not None, dtype=torch.bool, device=input_ids.device
        )
