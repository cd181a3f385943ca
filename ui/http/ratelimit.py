"""Token buckets in memory: `per_minute` requests a minute with bursts up to the same number."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimiter:
    """One bucket per name (an IP, a key id); per process, so each worker counts on its own."""

    def __init__(
        self, per_minute: int, *, clock: Callable[[], float] = time.monotonic, max_buckets: int = 50_000
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens a second
        self.clock = clock
        self.max_buckets = max_buckets
        self._buckets: dict[str, tuple[float, float]] = {}  # name -> (tokens, last refill)
        self._lock = threading.Lock()

    def take(self, name: str) -> float:
        """Spend one token of `name`'s bucket: 0.0 when allowed, else the seconds until one is available."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(name, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[name] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[name] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
            if len(self._buckets) > self.max_buckets:
                self._prune(now)
        return wait

    def _prune(self, now: float) -> None:
        """Forget buckets that have refilled completely: they behave exactly like new ones."""
        full = [n for n, (t, last) in self._buckets.items() if t + (now - last) * self.rate >= self.capacity]
        for name in full:
            del self._buckets[name]


def retry_after(wait_s: float) -> str:
    """A `Retry-After` value in whole seconds (at least 1)."""
    return str(max(1, math.ceil(wait_s)))
