"""How long `lepton db migrate` and `lepton db export` take: a copy of a trained demo home (its knowledge base and
intent model) plus N synthetic logged turns, moved into a throwaway PostgreSQL (tests/database_server.py) and
exported back into a new home, in process.

    python benchmarks/db_moves.py --turns 20000 [--home HOME]

Prints one JSON object on its last stdout line.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from pathlib import Path

from _common import base_args, bench_home, copy_home, emit, log, machine


def add_turns(home: Path, turns: int) -> None:
    """`turns` logged turns over turns/10 sessions, written straight into the home's conversation log."""
    from sqlalchemy import insert

    from assistant.conversation_tables import SESSIONS, TURNS
    from assistant.conversations import ConversationStore

    store = ConversationStore(home / "conversations.db")
    now = time.time()
    sessions = [
        {"id": uuid.uuid4().hex, "created_at": now, "updated_at": now, "language": "en", "status": "open"}
        for _ in range(max(1, turns // 10))
    ]
    rows = [
        {
            "id": uuid.uuid4().hex,
            "session_id": sessions[i % len(sessions)]["id"],
            "created_at": now + i,
            "message": "How much is express shipping to Canada?",
            "language": "en",
            "intent": "shipping_cost",
            "confidence": 0.93,
            "route": "template",
            "sources": "[]",
            "reply": "Express shipping costs 9.90 EUR and arrives in 1-2 business days. " * 2,
            "latency_ms": 12.5,
            "trace": json.dumps({"decision": {"route": "template"}, "stages_ms": {"total": 12.5}}),
        }
        for i in range(turns)
    ]
    with store.engine.begin() as conn:
        conn.execute(insert(SESSIONS), sessions)
        conn.execute(insert(TURNS), rows)
    store.close()


def main() -> None:
    parser = base_args(__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20000)
    args = parser.parse_args()

    from assistant.config import load_settings
    from assistant.home_moves import export_home, migrate_home
    from tests.database_server import start_server

    source = bench_home(args.home)
    server = start_server()
    try:
        url = server.create_database("db_moves")
        with tempfile.TemporaryDirectory(prefix="lepton-db-moves-") as tmp:
            home = copy_home(source, Path(tmp) / "home")
            add_turns(home, args.turns)
            t0 = time.perf_counter()
            moves = migrate_home(load_settings(home=home, database_url=url))
            migrate_s = time.perf_counter() - t0
            log(f"migrate: {migrate_s:.1f} s")
            t0 = time.perf_counter()
            export_home(load_settings(home=home, database_url=url), Path(tmp) / "exported")
            export_s = time.perf_counter() - t0
            log(f"export: {export_s:.1f} s")
    finally:
        server.stop()
    emit(
        {
            "benchmark": "db_moves",
            "turns": args.turns,
            "rows": sum(sum(m.tables.values()) for m in moves),
            "migrate_s": round(migrate_s, 2),
            "export_s": round(export_s, 2),
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
