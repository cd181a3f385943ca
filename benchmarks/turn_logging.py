"""What logging one customer turn costs: `ConversationStore.session` (the turn's read) and `log_turn` (its one
write transaction), median and p95 over a few hundred turns, on a SQLite file and, with `--postgres URL` (or
`--start-postgres`: a throwaway server from tests/database_server.py), on PostgreSQL.

    python benchmarks/turn_logging.py --turns 400 --start-postgres

Runs with any version of the store that takes `ConversationStore(path)` (the previous release included), so
the same script measures before and after a change. Prints one JSON object on its last stdout line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # after PYTHONPATH: an older checkout on PYTHONPATH is the one measured

TRACE = {"decision": {"route": "template", "reason": "confident intent"}, "stages_ms": {"total": 12.5}}


def measure(store: Any, turns: int, sessions: int = 20) -> dict[str, float]:
    """Turns spread over `sessions` conversations (each turn reads its session, changes it, logs)."""
    ids: list[str | None] = [None] * sessions
    read_ms: list[float] = []
    log_ms: list[float] = []
    for n in range(turns):
        slot = n % sessions
        t0 = time.perf_counter()
        session = store.session(ids[slot])
        t1 = time.perf_counter()
        session.topic, session.language = f"how do refunds work {n}", "en"
        session.slots = {"order_id": f"KH-{20000000 + n}"}
        store.log_turn(
            session,
            {
                "message": f"how do refunds work for order KH-{20000000 + n}, mail me at jane@example.com",
                "reply": "Refunds reach your original payment method within 5 business days.",
                "route": "template",
                "language": "en",
                "intent": "refund_policy",
                "confidence": 0.93,
                "sources": [{"id": "t-refunds", "title": "Refunds", "uri": "template:t-refunds"}],
                "latency_ms": 12.5,
                "trace": TRACE,
            },
        )
        t2 = time.perf_counter()
        ids[slot] = session.id
        if n >= min(20, turns // 10):  # the first turns warm up connections and statement caches
            read_ms.append((t1 - t0) * 1000)
            log_ms.append((t2 - t1) * 1000)
    return {
        "turns": len(log_ms),
        "log_turn_median_ms": round(statistics.median(log_ms), 3),
        "log_turn_p95_ms": round(sorted(log_ms)[int(0.95 * len(log_ms)) - 1], 3),
        "session_read_median_ms": round(statistics.median(read_ms), 3),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--turns", type=int, default=400)
    p.add_argument("--postgres", default=None, help="postgresql://… of an empty database to measure on too")
    p.add_argument("--start-postgres", action="store_true", help="start a throwaway server for the run")
    args = p.parse_args()
    from assistant.conversations import ConversationStore

    out: dict[str, Any] = {"benchmark": "turn_logging"}
    with tempfile.TemporaryDirectory(prefix="lepton-turns-") as tmp:
        store = ConversationStore(Path(tmp) / "conversations.db")
        out["sqlite"] = measure(store, args.turns)
        store.close()
        url, server = args.postgres, None
        if url is None and args.start_postgres:
            from tests.database_server import start_server

            server = start_server()
            url = server.create_database("turn_logging")
        if url is not None:
            try:
                pg = ConversationStore(Path(tmp) / "unused.db", database_url=url)
                out["postgresql"] = measure(pg, args.turns)
                pg.close()
            finally:
                if server is not None:
                    from knowledge.database import dispose_engines

                    dispose_engines()
                    server.stop()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
