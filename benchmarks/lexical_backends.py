"""Lexical search on SQLite FTS5 against the PostgreSQL lexicon (knowledge/lexical_postgres.py).

For StackFAQ and for the demo's English and Chinese questions, a knowledge base is built as `lepton eval
retrieval` builds it (same documents, ingested with MiniLM), its units are indexed in a PostgreSQL lexicon on a
throwaway server (tests/database_server.py), and every question is answered by lexical search alone on both:
the best 120 document units (what `KnowledgeBase.search` asks for when the eval wants 30 hits), ranked by score
(ties by unit id), reduced to distinct documents. Prints MRR@10 / Recall@1 / Recall@5 of each backend, the
difference, how many questions ranked their documents differently, and p50/p95 query latency.

    python benchmarks/lexical_backends.py [--stackfaq ../shared/datasets/stackfaq] [--sets stackfaq,en,zh]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, emit, log, machine, summary  # noqa: E402

N = 120  # KnowledgeBase.search's candidate count for k = 30 (retrieval_eval's _ranked_docs)
KINDS = {"document"}


def ranked_docs(scores: dict[str, float], doc_of: dict[str, str]) -> list[str]:
    """Distinct documents, best first (ties broken by unit id), at most 10."""
    ids = sorted(scores, key=lambda i: (-scores[i], i))
    return list(dict.fromkeys(doc_of[i] for i in ids))[:10]


def stackfaq_set(path: Path, folder: Path, embedder) -> tuple:
    from knowledge import KnowledgeBase
    from knowledge.retrieval_eval import stackfaq_file, stackfaq_queries, write_stackfaq_documents

    path = stackfaq_file(path)
    kb = KnowledgeBase(folder / "kb", embedder=embedder, multilingual=False)
    kb.ingest([write_stackfaq_documents(path, folder / "docs")])
    return kb, [(q, {f"t{i:03d}"}) for i, q in stackfaq_queries(path)]


def demo_kb(folder: Path, embedder):
    from knowledge import KnowledgeBase, demo_paths

    kb = KnowledgeBase(folder / "kb", embedder=embedder, multilingual=False)
    kb.ingest(demo_paths())
    return kb


def demo_questions(language: str) -> list[tuple[str, set[str]]]:
    from knowledge.demo_data import DEMO_DIR

    out = []
    for f in sorted((DEMO_DIR / "eval").glob("retrieval-*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            item = json.loads(line) if line.strip() else None
            if item and item.get("language", "und") == language:
                out.append((item["question"], set(item["relevant"])))
    return out


def copy_to_postgres(kb, engine) -> int:
    """Index every unit of `kb` in a fresh lexicon with the live version's version_units; the live version."""
    import sqlalchemy as sa

    from knowledge import lexical_postgres

    store = kb.store
    units = list(store.units().values())
    version = store.live_version()
    with engine.begin() as conn:
        conn.execute(
            sa.text("CREATE TABLE version_units (version integer, rev text, PRIMARY KEY (version, rev))")
        )
        lexical_postgres.create_lexicon(conn)
        conn.execute(
            sa.text("INSERT INTO version_units SELECT :v, unnest(CAST(:revs AS text[]))"),
            {"v": version, "revs": sorted(store.live_revs())},
        )
        started = time.perf_counter()
        lexical_postgres.index_units(conn, units)
        log(f"  indexed {len(units)} units in PostgreSQL in {time.perf_counter() - started:.2f} s")
    return version


def compare(name: str, kb, questions: list[tuple[str, set[str]]], engine) -> dict:
    from knowledge import lexical_postgres
    from knowledge.retrieval_eval import _metrics, _rank

    version = copy_to_postgres(kb, engine)
    doc_of = {i: Path(u["uri"]).stem for i, u in kb.store.units(live=True).items()}

    def fts5(q: str) -> dict[str, float]:
        return kb.store.lexical(q, N, None, KINDS)

    def postgres(q: str) -> dict[str, float]:
        with engine.connect() as conn:
            return lexical_postgres.search(conn, q, N, version=version, kinds=KINDS)

    backends: dict[str, Callable[[str], dict[str, float]]] = {"sqlite_fts5": fts5, "postgresql": postgres}
    for run in backends.values():  # warm caches and connections
        for q, _ in questions[:20]:
            run(q)
    ranks: dict[str, list] = {b: [] for b in backends}
    times: dict[str, list[float]] = {b: [] for b in backends}
    docs: dict[str, list] = {b: [] for b in backends}
    for q, gold in questions:
        for b, run in backends.items():
            started = time.perf_counter()
            scores = run(q)
            times[b].append((time.perf_counter() - started) * 1000)
            ranked = ranked_docs(scores, doc_of)
            docs[b].append(ranked)
            ranks[b].append(_rank(ranked, gold))
    out: dict = {"questions": len(questions), "units": len(kb.store.units())}
    for b in backends:
        out[b] = {**_metrics(ranks[b]), "latency_ms": summary(times[b])}
    out["mrr_at_10_difference"] = round(out["postgresql"]["mrr_at_10"] - out["sqlite_fts5"]["mrr_at_10"], 4)
    out["questions_ranked_differently"] = sum(a != b for a, b in zip(*docs.values(), strict=True))
    log(f"{name}: {json.dumps(out)}")
    return out


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stackfaq", type=Path, default=ROOT.parent / "shared" / "datasets" / "stackfaq")
    parser.add_argument("--sets", default="stackfaq,en,zh", help="comma-separated: stackfaq, en, zh")
    args = parser.parse_args()
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    if unknown := set(sets) - {"stackfaq", "en", "zh"}:
        raise SystemExit(f"--sets: unknown {', '.join(sorted(unknown))} (stackfaq, en, zh)")
    if "stackfaq" in sets and not args.stackfaq.exists():
        raise SystemExit(f"--stackfaq: {args.stackfaq} does not exist")

    from knowledge import make_embedder
    from knowledge.database.engines import dispose_engines, open_engine
    from tests.database_server import start_server

    server = start_server()
    result: dict = {"benchmark": "lexical_backends", "machine": machine(), "sets": {}}
    try:
        with tempfile.TemporaryDirectory() as tmp:

            def database(name: str):  # a database of its own per set
                return open_engine(server.create_database(name), Path(tmp) / "unused.db")

            embedder = make_embedder("minilm")
            if "stackfaq" in sets:
                log("StackFAQ: ingesting")
                kb, questions = stackfaq_set(args.stackfaq, Path(tmp) / "stackfaq", embedder)
                result["sets"]["stackfaq"] = compare("stackfaq", kb, questions, database("stackfaq"))
                kb.close()
            if {"en", "zh"} & set(sets):
                log("demo: ingesting")
                kb = demo_kb(Path(tmp) / "demo", embedder)
                for lang in ("en", "zh"):
                    if lang in sets:
                        result["sets"][f"demo_{lang}"] = compare(
                            f"demo {lang}", kb, demo_questions(lang), database(f"demo_{lang}")
                        )
                kb.close()
            dispose_engines()
    finally:
        server.stop()
    diffs = [abs(s["mrr_at_10_difference"]) for s in result["sets"].values()]
    result["max_abs_mrr_at_10_difference"] = max(diffs, default=None)
    emit(result)


if __name__ == "__main__":
    main()
