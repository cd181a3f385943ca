"""Ingestion speed with the default embedder: the demo knowledge base, and a larger synthetic set.

Each run ingests into a fresh knowledge base (SQLite + embedded Chroma) in a temporary folder, in this process.
The synthetic set is made of the demo's English and Chinese articles with their sections shuffled and
renumbered, so every file is new content (nothing is skipped as unchanged).
`chunks_per_s` counts document chunks only; templates are embedded too (reported as `units`).
The default setup embeds English units with MiniLM and Chinese ones with the KB's multilingual embedder
(multilingual-e5-small); both are in the timed ingest (`units_per_embedder` says how many went where).

    python benchmarks/ingest.py [--runs 3] [--synthetic-docs 200]
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import base_args, emit, log, machine  # noqa: E402


def synthetic_corpus(folder: Path, n_docs: int, seed: int = 7) -> Path:
    """`n_docs` Markdown files built from shuffled sections of the demo articles."""
    from knowledge.demo_data import DEMO_DIR

    rng = random.Random(seed)
    sources = sorted((DEMO_DIR / "articles").rglob("*.md"))
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_docs):
        text = sources[i % len(sources)].read_text(encoding="utf-8")
        title, _, body = text.partition("\n")
        sections = [s for s in body.split("\n## ") if s.strip()]
        rng.shuffle(sections)
        doc = (
            f"{title.strip()} (copy {i})\n\n" + "\n\n## ".join(sections) + f"\n\nReference KH-DOC-{i:05d}.\n"
        )
        sub = folder / sources[i % len(sources)].parent.name
        sub.mkdir(exist_ok=True)
        (sub / f"doc-{i:05d}.md").write_text(doc, encoding="utf-8")
    return folder


def ingest_once(paths: list[Path], embedder, multilingual=None) -> dict:
    from knowledge import KnowledgeBase

    with tempfile.TemporaryDirectory(prefix="lepton-ingest-") as tmp:
        kb = KnowledgeBase(Path(tmp) / "kb", embedder=embedder, multilingual=multilingual or False)
        kb.warm_up()
        t = time.perf_counter()
        report = kb.ingest(paths)
        seconds = time.perf_counter() - t
        stats = kb.stats()
        units = stats["chunks"] + stats["templates"]
        per_embedder = {emb.name: index.count() for emb, index in kb.vector_sync.indexes()}
        if report.errors:
            raise RuntimeError(f"ingest errors: {report.errors[:3]}")
    return {
        "files": report.added,
        "chunks": report.chunks,
        "units": units,
        "units_per_embedder": per_embedder,
        "seconds": round(seconds, 2),
        "chunks_per_s": round(report.chunks / seconds, 2),
    }


def embed_only(embedder, texts: list[str]) -> float:
    t = time.perf_counter()
    embedder.embed_passages(texts)
    return round(len(texts) / (time.perf_counter() - t), 2)


def main() -> None:
    parser = base_args(__doc__.splitlines()[0])
    parser.add_argument("--synthetic-docs", type=int, default=200)
    args = parser.parse_args()
    from knowledge import demo_paths, make_embedder

    embedder = make_embedder("minilm")
    embedder.warm_up()
    embedder.embed_passages(["warm-up"])
    from knowledge.kb import _default_multilingual

    multilingual = _default_multilingual(embedder)
    load_s = None
    if multilingual is not None:
        # Throughput, not start-up: the passage model stays loaded across runs (a server lets it go after
        # each ingest to save ~780 MB; loading it costs `passage_model_load_s` once per ingest there).
        multilingual.warm_up()
        multilingual.keep_loaded = True
        t = time.perf_counter()
        multilingual.embed_passages(["预热"])
        load_s = round(time.perf_counter() - t, 2)
    result: dict = {
        "benchmark": "ingest",
        "machine": machine(),
        "embedder": getattr(embedder, "name", "minilm"),
        "embedder_dtype": getattr(embedder, "dtype", None),
        "multilingual_embedder": getattr(multilingual, "name", None),
        "passage_model_load_s": load_s,
    }
    for name, paths in (("demo", demo_paths()), ("synthetic", None)):
        runs = []
        with tempfile.TemporaryDirectory(prefix="lepton-corpus-") as tmp:
            if paths is None:
                paths = [synthetic_corpus(Path(tmp) / "docs", args.synthetic_docs)]
            for i in range(args.runs):
                runs.append(ingest_once(paths, embedder, multilingual))
                log(f"{name} run {i + 1}: {runs[-1]}")
        result[name] = {
            "chunks_per_s": round(statistics.median(r["chunks_per_s"] for r in runs), 2),
            "seconds": round(statistics.median(r["seconds"] for r in runs), 2),
            "runs": runs,
        }
    # Embedding alone, on texts the size of real chunks (the demo articles' sections): ingest's ceiling.
    from knowledge.demo_data import DEMO_DIR

    texts = [
        sec for p in sorted((DEMO_DIR / "articles").rglob("*.md")) for sec in p.read_text().split("\n## ")
    ]
    result["embedder_only_sections_per_s"] = embed_only(embedder, texts)
    emit(result)


if __name__ == "__main__":
    main()
