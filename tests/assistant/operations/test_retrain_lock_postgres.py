"""One retrain at a time across replicas on PostgreSQL: a retrain running in another process (another replica,
its own home) refuses one here and says where it runs; a holder killed with -9 frees the lock at once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import assistant.operations.retraining as retraining_module
from assistant.config import load_settings
from assistant.learning import RetrainOutcome
from assistant.operations.retrain_lock import ReplicaRetrainLock, retrain_lock
from assistant.operations.retraining import Retraining, RetrainRunning

ROOT = Path(__file__).resolve().parents[3]

# Another replica: takes the retrain lock on its own home and database connection, says so, holds it until
# its stdin closes (or it is killed).
HOLDER = """
import sys
from pathlib import Path
from assistant.config import load_settings
from assistant.operations.retrain_lock import retrain_lock
lock = retrain_lock(load_settings(home=Path(sys.argv[1]), database_url=sys.argv[2]))
lock.acquire()
print("held", flush=True)
sys.stdin.read()
lock.release()
print("released", flush=True)
"""
# Another replica asking whether a retrain runs, and trying to start one.
PROBE = """
import sys
from pathlib import Path
from assistant.config import load_settings
from assistant.operations.retrain_lock import RetrainRunning, retrain_lock
lock = retrain_lock(load_settings(home=Path(sys.argv[1]), database_url=sys.argv[2]))
print("held" if lock.held() else "free")
try:
    lock.acquire()
except RetrainRunning as exc:
    print(exc)
else:
    lock.release()
    print("acquired")
"""


def _python(code: str, *args: str, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        text=True,
        **kwargs,
    )


def _finished(jobs: Retraining, job_id: str) -> dict[str, Any]:
    """The job once it has ended and let go of the lock (fails after 30 s)."""
    deadline = time.monotonic() + 30
    while jobs.job(job_id)["status"] in ("queued", "running") or jobs.running():
        assert time.monotonic() < deadline, jobs.job(job_id)
        time.sleep(0.05)
    return jobs.job(job_id)


def _free_within(lock: ReplicaRetrainLock, seconds: float) -> float:
    """Seconds until `lock` reads free (fails after `seconds`)."""
    started = time.monotonic()
    while lock.held():
        assert time.monotonic() - started < seconds, "the retrain lock was not freed"
        time.sleep(0.05)
    return time.monotonic() - started


def test_a_retrain_on_another_replica_refuses_one_here_and_a_killed_holder_frees_it(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = load_settings(home=tmp_path / "here", database_url=postgres_url)
    jobs = Retraining(settings)
    assert isinstance(jobs.lock, ReplicaRetrainLock) and not jobs.running()

    holder = _python(
        HOLDER, str(tmp_path / "there"), postgres_url, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert jobs.running()  # another replica's retrain counts
        with pytest.raises(RetrainRunning, match=f"another replica: {socket.gethostname()} pid {holder.pid}"):
            jobs.start()
        assert jobs.latest() is None  # nothing was queued
        assert not (tmp_path / "here" / "models").exists()  # no file lock: the database's lock is the one

        os.kill(holder.pid, signal.SIGKILL)  # the replica dies mid-retrain: its connection closes
        holder.wait(30)
        print(f"lock freed {_free_within(jobs.lock, 10.0):.2f} s after kill -9")
        job = jobs.start(trigger="test")  # here now: the job runs (and fails fast: this home has no data)
        assert _finished(jobs, job["id"])["status"] == "failed"
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(30)


def test_a_retrain_here_is_seen_and_refused_by_another_replica(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    go, inside = threading.Event(), threading.Event()

    def fake(settings: Any, **kwargs: Any) -> RetrainOutcome:
        inside.set()
        assert go.wait(60)
        return RetrainOutcome("v0002", False, "not better")

    monkeypatch.setattr(retraining_module, "retrain", fake)
    settings = load_settings(home=tmp_path / "here", database_url=postgres_url)
    jobs = Retraining(settings)
    job = jobs.start(trigger="test")
    assert inside.wait(30)
    assert Retraining(settings).running()  # this process: its own lock answers without asking the database
    with pytest.raises(RetrainRunning):
        Retraining(load_settings(home=tmp_path / "elsewhere", database_url=postgres_url)).start()
    probe = _python(
        PROBE, str(tmp_path / "there"), postgres_url, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = probe.communicate(timeout=120)
    assert probe.returncode == 0, err[-3000:]
    assert out.splitlines() == [
        "held",
        f"A retrain is already running (started on another replica: {socket.gethostname()} pid {os.getpid()}).",
    ]
    go.set()
    assert _finished(jobs, job["id"])["status"] == "done"
    # Released for good: no session of the database holds it, and the connection went back to the pool under
    # its own name.
    assert isinstance(jobs.lock, ReplicaRetrainLock) and jobs.lock.holder() is None
    with jobs.lock.engine.connect() as conn:
        names = conn.exec_driver_sql(
            "SELECT application_name FROM pg_stat_activity WHERE datname = current_database()"
        ).scalars()
        assert not [n for n in names if n.startswith("lepton retrain")]


def test_sqlite_homes_keep_the_file_lock(tmp_path: Path) -> None:
    lock = retrain_lock(load_settings(home=tmp_path / "home"))
    assert not isinstance(lock, ReplicaRetrainLock)
    lock.acquire()
    try:
        assert (tmp_path / "home" / "models" / "retrain.lock").read_text().strip() == str(os.getpid())
    finally:
        lock.release()
