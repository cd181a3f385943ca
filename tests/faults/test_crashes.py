"""kill -9 in the middle of an ingest, a training run and a burst of chat: the home stays usable."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _popen(args: list[str], home: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "LEPTON_GENERATOR__BACKEND": "none", "COLUMNS": "1000"}
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "ui.cli", *args, "--home", str(home)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _kill9(proc: subprocess.Popen) -> bool:
    """SIGKILL; True when it was still running (the kill really interrupted it)."""
    if proc.poll() is not None:
        return False
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    return True


def _docs(folder: Path, n: int) -> Path:
    from knowledge.demo_data import DEMO_DIR

    sources = sorted((DEMO_DIR / "articles" / "en").glob("*.md"))
    folder.mkdir(parents=True)
    for i in range(n):
        text = sources[i % len(sources)].read_text(encoding="utf-8")
        (folder / f"copy-{i:04d}.md").write_text(f"{text}\n\nArchive copy number {i} (KH-ARCHIVE-{i:05d}).\n")
    return folder


def _count(db: Path, sql: str, args: tuple = ()) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute(sql, args).fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def _vector_count(home: Path) -> int:
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(
        path=str(home / "kb" / "chroma"), settings=Settings(anonymized_telemetry=False)
    )
    return sum(
        client.get_collection(c.name if hasattr(c, "name") else c).count() for c in client.list_collections()
    )


def test_kill9_during_ingest_leaves_a_working_kb(fresh_home: Path, run_cli, tmp_path: Path) -> None:
    n = 70  # more than one ingest batch (64 files), so the kill lands mid-way
    folder = _docs(tmp_path / "archive", n)
    db = fresh_home / "kb" / "kb.db"
    like = f"{folder}%"
    proc = _popen(["kb", "ingest", str(folder)], fresh_home, tmp_path / "ingest-1.log")
    deadline = time.time() + 600
    while _count(db, "select count(*) from documents where uri like ?", (like,)) < 10 and proc.poll() is None:
        assert time.time() < deadline, "the ingest never got going"
        time.sleep(0.1)
    interrupted = _kill9(proc)
    partial = _count(db, "select count(*) from documents where uri like ?", (like,))
    assert interrupted and 0 < partial < n, (
        interrupted,
        partial,
        (tmp_path / "ingest-1.log").read_text()[-2000:],
    )

    found = run_cli("kb", "search", "how long do refunds take", "--json", home=fresh_home, timeout=300)
    assert found.returncode == 0, found.stderr[-3000:]
    assert json.loads(found.stdout), "the knowledge base no longer finds anything"

    again = run_cli("kb", "ingest", str(folder), home=fresh_home, timeout=900)
    assert again.returncode == 0, (again.stdout + again.stderr)[-3000:]
    assert _count(db, "select count(*) from documents where uri like ?", (like,)) == n
    con = sqlite3.connect(db)
    try:
        assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
        units = con.execute("select count(*) from units").fetchone()[0]
        fts = con.execute("select count(*) from units_fts").fetchone()[0]
    finally:
        con.close()
    assert fts == units
    searchable = _count(db, "select count(*) from units where kind != 'slot'", ())
    assert _vector_count(fresh_home) == searchable  # Chroma holds exactly the SQLite units again (not slots)
    hit = run_cli(
        "kb", "search", f"KH-ARCHIVE-{n - 1:05d} archive copy", "--json", home=fresh_home, timeout=300
    )
    assert hit.returncode == 0 and json.loads(hit.stdout), hit.stderr[-2000:]


def test_kill9_during_training_keeps_the_promoted_model(fresh_home: Path, run_cli, tmp_path: Path) -> None:
    from training import ModelRegistry

    registry = ModelRegistry(fresh_home / "models" / "intents")
    before = registry.current()
    assert before is not None
    log = tmp_path / "train.log"
    proc = _popen(["train", "intents", "--demo", "--force"], fresh_home, log)
    time.sleep(25)  # model loaded and fine-tuning under way (a full run takes minutes on CPU)
    assert _kill9(proc), f"training finished within 25 s, nothing was interrupted: {log.read_text()[-2000:]}"

    assert registry.current() == before
    listed = run_cli("models", "list", "--json", home=fresh_home, timeout=120)
    assert listed.returncode == 0 and [v["version"] for v in json.loads(listed.stdout) if v["current"]] == [
        before[0]
    ]
    answer = run_cli("chat", "how do I reset my password", "--json", home=fresh_home, timeout=300)
    assert answer.returncode == 0, answer.stderr[-3000:]
    reply = json.loads(answer.stdout)
    assert reply["route"] == "template" and reply["intent"]["name"] == "reset_password", reply


def test_kill9_of_the_server_during_a_burst(launch, template_messages) -> None:
    server = launch(name="crash-server")
    ok: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def customer(index: int) -> None:
        session = None
        with httpx.Client(base_url=server.url, timeout=30) as client:
            turn = 0
            while not stop.is_set():
                try:
                    r = client.post(
                        "/v1/chat",
                        json={"message": template_messages[(index + turn) % 7], "session_id": session},
                    )
                except httpx.HTTPError:
                    return  # the server is gone
                turn += 1
                if r.status_code == 200:
                    session = r.json()["session_id"]
                    with lock:
                        ok.append(r.json()["message_id"])

    threads = [threading.Thread(target=customer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    deadline = time.time() + 60
    while len(ok) < 30 and time.time() < deadline:
        time.sleep(0.05)
    server.kill9()
    stop.set()
    for t in threads:
        t.join(60)
    assert len(ok) >= 30

    server.start()
    r = httpx.post(f"{server.url}/v1/chat", json={"message": "Do gift cards expire?"}, timeout=60)
    assert r.status_code == 200 and r.json()["route"] == "template", r.text
    con = sqlite3.connect(server.home / "conversations.db")
    try:
        assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
        rows = con.execute(
            "select id, session_id, message, language, route, reply, latency_ms from turns"
        ).fetchall()
    finally:
        con.close()
    logged = {row[0] for row in rows}
    assert set(ok) <= logged, "an answered turn is missing from the log"
    incomplete = [row for row in rows if any(v is None or v == "" for v in row)]
    assert not incomplete, incomplete[:3]
