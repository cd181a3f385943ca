"""The retrain job record over REST: while it runs, its progress and time left (`eta_s`); once done, a one-line
`verdict` in plain words (the trainer is replaced by one that reports like it, so this takes seconds)."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

import assistant.operations.retraining as retraining_module
from assistant.learning import RetrainOutcome


def test_the_job_record_has_time_left_then_a_verdict(live, monkeypatch: pytest.MonkeyPatch) -> None:
    moved, finish = threading.Event(), threading.Event()

    def fake(settings: Any, files: Any = None, *, progress: Any = None, **kwargs: Any) -> RetrainOutcome:
        progress("reading data", 0.0)
        progress("training", 0.1)
        time.sleep(1.5)
        progress("training", 0.45)
        moved.set()
        assert finish.wait(120)
        progress("comparing", 0.9)
        metrics = {"heldout": {"accuracy": 0.893}, "compared_with": {"version": "v0003", "accuracy": 0.901}}
        return RetrainOutcome("v0004", False, "keep current: worse", metrics, previous="v0003")

    monkeypatch.setattr(retraining_module, "retrain", fake)
    headers = {"Authorization": f"Bearer {live.admin_key}"}
    with httpx.Client(base_url=live.url, headers=headers, timeout=60) as client:
        started = client.post("/v1/admin/models/retrain")
        assert started.status_code == 202, started.text
        job = started.json()["job"]
        assert job["eta_s"] is None and job["verdict"] is None
        assert moved.wait(60)
        running = client.get("/v1/admin/models/retrain").json()
        assert (
            running["status"] == "running" and running["stage"] == "training" and running["progress"] == 0.45
        )
        assert 1.0 < running["eta_s"] < 5.0 and running["verdict"] is None, running
        time.sleep(0.5)
        assert client.get(f"/v1/admin/jobs/{job['id']}").json()["eta_s"] < running["eta_s"]  # counting down
        finish.set()
        deadline = time.time() + 60
        while (done := client.get(f"/v1/admin/jobs/{job['id']}").json())["status"] == "running":
            assert time.time() < deadline
            time.sleep(0.05)
        assert done["status"] == "done" and done["promoted"] is False and done["eta_s"] == 0.0
        assert done["verdict"] == (
            "v0004 answers 0.8 % fewer test questions correctly than v0003 (89.3 % against 90.1 %): kept v0003."
        )
        assert client.get("/v1/admin/models").json()["last_retrain"]["verdict"] == done["verdict"]
