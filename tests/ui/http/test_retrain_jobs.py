"""Retraining over the real server: one job at a time (409, and another process refused by the file lock),
the job's status readable, and the promoted model the one /healthz and /v1/admin/models report."""

from __future__ import annotations

import csv
import fcntl
import time
from collections import defaultdict
from pathlib import Path

import httpx

from assistant.keys import KeyStore
from assistant.operations.retraining import LOCK_FILE

ROWS_PER_INTENT, INTENTS = 16, 6


def _shrink_training_data(home: Path) -> None:
    """Keep a few intents of the stored demo data, so that a real retrain takes seconds, not minutes."""
    data = home / "models" / "intents" / "data"
    rows: dict[str, list[list[str]]] = defaultdict(list)
    for f in sorted(data.glob("*.csv")):
        with f.open(newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            for row in reader:
                rows[row[1]].append(row)
        f.unlink()
    kept = sorted(rows, key=lambda k: -len(rows[k]))[:INTENTS]
    with (data / "small.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for intent in kept:
            w.writerows(rows[intent][:ROWS_PER_INTENT])


def _file_lock_taken(home: Path) -> bool:
    """What another process (`lepton train intents`) finds: the home's retrain lock, held or free."""
    with (home / "models" / LOCK_FILE).open("a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False


def test_one_retrain_at_a_time_and_the_live_model_is_the_promoted_one(launch) -> None:
    proc = launch(start=False, name="retrain")
    _shrink_training_data(proc.home)
    proc.start()
    admin = KeyStore(proc.home / "keys.db").create("admin", name="retrain test")
    with httpx.Client(base_url=proc.url, headers={"Authorization": f"Bearer {admin}"}, timeout=60) as client:
        assert client.get("/v1/admin/models/retrain").json() == {"status": "never"}
        started = client.post("/v1/admin/models/retrain")
        assert started.status_code == 202, started.text
        body = started.json()
        assert body["status"] == "started" and body["job_id"]
        job_id = body["job_id"]
        second = client.post("/v1/admin/models/retrain")
        assert second.status_code == 409 and "already running" in second.json()["error"]["message"]
        assert _file_lock_taken(proc.home)  # a CLI retrain on this home is refused meanwhile

        deadline = time.time() + 240
        stages, training, etas = set(), set(), []
        while True:
            job = client.get(f"/v1/admin/jobs/{job_id}").json()
            stages.add(job.get("stage"))
            if job.get("stage") == "training":
                training.add(job["progress"])
            if job["status"] == "running" and job["eta_s"] is not None:
                etas.append(job["eta_s"])
            if job["status"] in ("done", "failed") or time.time() > deadline:
                break
            time.sleep(0.2)
        assert job["status"] == "done", job
        assert job["version"] and isinstance(job["promoted"], bool) and job["reason"]
        # The trainer reports its steps: the progress moves within "training", and a time left is given.
        assert len(training) > 1 and etas and job["eta_s"] == 0.0, (training, etas)
        assert (
            job["verdict"].startswith(f"{job['version']} answers ")
            and "test questions correctly" in job["verdict"]
        )
        assert (": promoted" if job["promoted"] else ": kept v0001") in job["verdict"]
        assert job["progress"] == 1.0 and stages <= {
            "queued",
            "reading data",
            "training",
            "scoring",
            "comparing",
            "loading the promoted model",
            "done",
        }
        assert client.get("/v1/admin/models/retrain").json() == job
        assert not _file_lock_taken(proc.home)
        assert client.get("/v1/admin/jobs/nope").status_code == 404

        def consistent() -> str:
            models = client.get("/v1/admin/models").json()
            live = httpx.get(f"{proc.url}/healthz", timeout=30).json()["intent_model"]
            assert models["current"] == models["serving"] == live, (
                models["current"],
                models["serving"],
                live,
            )
            assert models["last_retrain"]["id"] == job_id
            return live

        live = consistent()
        assert live == (job["version"] if job["promoted"] else "v0001")
        # Promoting the other version by hand: served at once, everywhere.
        other = "v0001" if live == job["version"] else job["version"]
        promoted = client.post(f"/v1/admin/models/{other}/promote").json()
        assert promoted == {"current": other, "serving": other}
        assert consistent() == other
