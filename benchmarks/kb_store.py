"""What the knowledge base's store costs per call on a SQLite file and on PostgreSQL (a throwaway server from
tests/database_server.py): the reads a turn makes (`live_version`, `templates(intent, language)`, `lexical`)
and a publish, median and p95, on the previous release's kb.db (tests/knowledge/kb_previous_release.sql) copied
into each backend.

    python benchmarks/kb_store.py --reads 300 --publishes 20

Prints one JSON object on its last stdout line.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

DUMP = ROOT / "tests" / "knowledge" / "kb_previous_release.sql"


def _ms(fn: Callable[[], object], n: int) -> dict[str, float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"median_ms": round(statistics.median(times), 3), "p95_ms": round(times[int(0.95 * (n - 1))], 3)}


def measure(store, reads: int, publishes: int) -> dict[str, dict[str, float]]:  # noqa: ANN001
    out = {
        "live_version": _ms(store.live_version, reads),
        "templates(intent, language)": _ms(lambda: store.templates("refund", "en"), reads),
        "lexical": _ms(lambda: store.lexical("how long do refunds take to reach my card", 40), reads),
    }
    doc = store.document_by_uri("admin://templates")
    units = store.draft_units(doc["id"])
    n = [0]

    def publish() -> None:
        n[0] += 1
        edited = [{**u, "tags": json.dumps(u["tags"]), "text": f"{u['text']} ({n[0]})"} for u in units]
        store.stage_document(doc, edited, "bench", "edit")
        store.log.publish("bench")

    out["edit + publish"] = _ms(publish, publishes)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--publishes", type=int, default=20)
    args = parser.parse_args()
    from knowledge.store import Store
    from tests.database_server import start_server

    result: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kb.db"
        with sqlite3.connect(path) as conn:
            conn.executescript(DUMP.read_text())
        store = Store(path)
        result["sqlite"] = measure(store, args.reads, args.publishes)
        store.close()
        server = start_server()
        try:
            url = server.create_database("kb_store_bench")
            pg = Store(Path(tmp) / "unused.db", url)
            with sqlite3.connect(Path(tmp) / "copy.db") as conn:
                conn.executescript(DUMP.read_text())
            source = Store(Path(tmp) / "copy.db")
            for d in source.documents():  # the same rows, written through the store (its lexicon included)
                units = [{**u, "tags": json.dumps(u["tags"])} for u in source.draft_units(d["id"])]
                pg.stage_document(d, units, "copy", "ingest")
            pg.log.publish("copy")
            result["postgresql"] = measure(pg, args.reads, args.publishes)
            pg.close()
            from knowledge.database import dispose_engines

            dispose_engines()
        finally:
            server.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
