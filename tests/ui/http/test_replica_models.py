"""Two `lepton serve` replicas on one PostgreSQL and one shared artifact folder: an intent model promoted or
rolled back through either is served by both within seconds, and a retrain running anywhere refuses one here."""

from __future__ import annotations

import secrets
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from assistant.keys import KeyStore
from assistant.operations.retrain_lock import ReplicaRetrainLock
from training import ModelRegistry


def _serving(url: str) -> str | None:
    try:
        return httpx.get(f"{url}/healthz", timeout=10).json().get("intent_model")
    except (httpx.HTTPError, ValueError):
        return None


def _seconds_until_serving(url: str, version: str, limit_s: float = 30.0) -> float:
    started = time.monotonic()
    while _serving(url) != version:
        assert time.monotonic() - started < limit_s, f"{url} still serves {_serving(url)}, not {version}"
        time.sleep(0.1)
    return time.monotonic() - started


def test_a_model_promoted_on_one_replica_is_served_by_the_other(
    launch, trained_home: Path, postgres_url: str, tmp_path: Path
) -> None:
    # The shared folder every replica mounts, with the demo's model (v0001, current.json) and a second version.
    shared = tmp_path / "artifacts"
    shutil.copytree(trained_home / "models" / "intents", shared / "intents")
    registry = ModelRegistry(shared / "intents", database_url=postgres_url, kind="intents")
    meta = registry.metadata("v0001")
    v2 = registry.register(
        registry.path_of("v0001"),
        metrics=meta["metrics"],
        data_fingerprint=meta["data_fingerprint"],
        config=meta["config"],
    )
    assert v2 == "v0002" and registry.current()[0] == "v0001"  # type: ignore[index]
    pepper = secrets.token_urlsafe(32)
    env = {
        "LEPTON_DATABASE_URL": postgres_url,
        "LEPTON_KEY_PEPPER": pepper,
        "LEPTON_ARTIFACT_DIR": str(shared),
        "LEPTON_MODEL_POLL_S": "0.5",
    }
    a, b = launch(env=env, start=False, name="replica-a"), launch(env=env, start=False, name="replica-b")
    try:
        with ThreadPoolExecutor(2) as pool:  # both start at once: one migrates, the other finds it done
            for started in [pool.submit(a.start), pool.submit(b.start)]:
                started.result()
        assert _serving(a.url) == _serving(b.url) == "v0001"
        admin = KeyStore(tmp_path / "keys.db", database_url=postgres_url, pepper=pepper.encode()).create(
            "admin"
        )
        auth = {"Authorization": f"Bearer {admin}"}

        asked = time.monotonic()
        promoted = httpx.post(f"{a.url}/v1/admin/models/{v2}/promote", headers=auth, timeout=120)
        assert promoted.status_code == 200, promoted.text
        assert promoted.json() == {"current": v2, "serving": v2}  # A answers once it serves it
        answered = time.monotonic() - asked
        _seconds_until_serving(b.url, v2)
        took = time.monotonic() - asked
        print(
            f"promoted through A (its answer after {answered:.1f} s): B served it {took:.1f} s after the ask"
        )
        listed = httpx.get(f"{b.url}/v1/admin/models", headers=auth, timeout=30).json()
        assert listed["current"] == listed["serving"] == v2
        assert [v["version"] for v in listed["versions"] if v["current"]] == [v2]

        asked = time.monotonic()
        rolled = httpx.post(f"{b.url}/v1/admin/models/rollback", headers=auth, timeout=120)
        assert rolled.status_code == 200 and rolled.json() == {"current": "v0001", "serving": "v0001"}
        _seconds_until_serving(a.url, "v0001")
        took = time.monotonic() - asked
        print(f"rolled back through B: A served it {took:.1f} s after the ask")
        assert registry.current()[0] == "v0001"  # type: ignore[index]

        # A retrain running elsewhere (here: this process holds the database's lock) refuses one on A.
        lock = ReplicaRetrainLock(postgres_url)
        lock.acquire()
        try:
            refused = httpx.post(f"{a.url}/v1/admin/models/retrain", headers=auth, timeout=30)
            assert refused.status_code == 409, refused.text
            assert "another replica" in refused.json()["error"]["message"]
        finally:
            lock.release()
        assert not (
            a.home / "models" / "intents" / "versions" / v2
        ).exists()  # versions live in the shared folder
    finally:
        a.stop()  # before the test's database is dropped
        b.stop()
