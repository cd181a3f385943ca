"""The model registries' pointer on PostgreSQL: replicas (their own engines or processes, one database, one
shared artifact folder) agree on which version serves; registering and promoting at once loses nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine

from knowledge.database.urls import driver_url
from training import ModelRegistry
from training.model_pointers import DatabasePointer, pointer_engine

ROOT = Path(__file__).resolve().parents[2]


def _fake_model(root: Path, name: str) -> Path:
    d = root / name
    d.mkdir(parents=True)
    (d / "labels.json").write_text(json.dumps([name]))
    return d


def test_a_promotion_or_rollback_on_one_replica_is_what_the_other_reads(
    postgres_url: str, tmp_path: Path
) -> None:
    shared = tmp_path / "artifacts" / "intents"  # the folder every replica mounts
    one = ModelRegistry(shared, database_url=postgres_url, kind="intents")
    # The other replica: its own engine (own connections, own sessions) on the same database.
    other_engine = create_engine(driver_url(postgres_url))
    try:
        two = ModelRegistry(shared, pointer=DatabasePointer(other_engine, "intents"))
        assert one.current() is None and two.current() is None and two.rollback() is None
        v1 = one.register(_fake_model(tmp_path, "a"), metrics={}, data_fingerprint="a", config={})
        v2 = two.register(_fake_model(tmp_path, "b"), metrics={}, data_fingerprint="b", config={})
        assert (v1, v2) == ("v0001", "v0002")
        one.promote(v1)
        assert two.current() == (v1, shared / "versions" / v1 / "model")
        two.promote(v2)
        assert one.current()[0] == v2 and one.promoted() == [v1, v2]  # type: ignore[index]
        assert [e["version"] for e in one.list() if e["current"]] == [v2]
        assert one.rollback() == v1
        assert two.current()[0] == v1 and two.rollback() is None  # type: ignore[index]
        # The generator's adapters have a pointer of their own in the same table.
        adapters = ModelRegistry(tmp_path / "artifacts" / "generator", database_url=postgres_url)
        assert adapters.current() is None
        # The pointer is the database's only: no current.json was written in the shared folder.
        assert not (shared / "current.json").exists()
        with other_engine.connect() as conn:
            row = conn.exec_driver_sql("SELECT version, history, updated_by FROM model_pointers").one()
        assert row[0] == v1 and json.loads(row[1]) == [] and row[2].endswith(f":{os.getpid()}")
    finally:
        other_engine.dispose()


def test_a_home_moving_to_postgres_keeps_its_current_model(postgres_url: str, tmp_path: Path) -> None:
    root = tmp_path / "models" / "intents"
    on_file = ModelRegistry(root)  # the SQLite home of before: current.json
    v1, v2 = (
        on_file.register(_fake_model(tmp_path, n), metrics={}, data_fingerprint=n, config={}) for n in "ab"
    )
    on_file.promote(v1)
    on_db = ModelRegistry(root, database_url=postgres_url)
    assert on_db.current()[0] == v1  # type: ignore[index]  # read from the file while the row is missing
    on_db.promote(v2)
    assert on_db.current()[0] == v2 and on_file.current()[0] == v1  # type: ignore[index]  # the file is left
    assert on_db.rollback() == v1  # the file's version is the history's start
    assert ModelRegistry(root, database_url=postgres_url).current()[0] == v1  # type: ignore[index]


# One replica: waits for the start file, then registers its models and promotes each as soon as it exists.
REPLICA = """
import json, sys, time
from pathlib import Path
from training import ModelRegistry
shared, url, start, name, n = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), sys.argv[4], int(sys.argv[5])
registry = ModelRegistry(shared, database_url=url, kind="intents")
registry.current()  # connected and migrated before the start
while not start.exists():
    time.sleep(0.005)
done = []
for i in range(n):
    version = registry.register(Path(sys.argv[6]), metrics={}, data_fingerprint=f"{name}-{i}", config={})
    registry.promote(version)
    done.append(version)
print(json.dumps(done))
"""


def test_replicas_registering_and_promoting_at_once_get_distinct_versions_and_lose_no_promotion(
    postgres_url: str, tmp_path: Path
) -> None:
    shared, start = tmp_path / "artifacts" / "intents", tmp_path / "start"
    model = _fake_model(tmp_path, "model")
    (model / "weights.bin").write_bytes(os.urandom(2_000_000))  # a copy that takes a moment
    replicas, each = 4, 3
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                REPLICA,
                str(shared),
                postgres_url,
                str(start),
                f"r{i}",
                str(each),
                str(model),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(replicas)
    ]
    time.sleep(0.5)
    start.touch()
    made: list[str] = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        made += json.loads(out.strip().splitlines()[-1])
    assert sorted(made) == [f"v{i:04d}" for i in range(1, replicas * each + 1)]  # none taken twice
    registry = ModelRegistry(shared, database_url=postgres_url, kind="intents")
    fingerprints = {e["version"]: e["data_fingerprint"] for e in registry.list()}
    assert sorted(fingerprints.values()) == sorted(f"r{i}-{j}" for i in range(replicas) for j in range(each))
    # Every promotion landed, one after the other: the current one and the history hold each version once.
    assert sorted(registry.promoted()) == sorted(made)
    assert not [p for p in shared.glob("versions/.incoming-*")]


def test_the_pointer_is_read_with_one_query_once_migrated(postgres_url: str, tmp_path: Path) -> None:
    """What the model watch of every replica pays every few seconds."""
    from sqlalchemy import event

    engine = pointer_engine(postgres_url)
    registry = ModelRegistry(tmp_path / "intents", database_url=postgres_url)
    registry.current()
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_rest) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        started = time.perf_counter()
        for _ in range(20):
            ModelRegistry(tmp_path / "intents", database_url=postgres_url).current()
        per_poll_ms = (time.perf_counter() - started) / 20 * 1000
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(statements) == 20 and all("model_pointers" in s for s in statements)
    assert per_poll_ms < 200, per_poll_ms  # ~1 ms here; loose: the cores are shared
