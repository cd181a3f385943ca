"""Retrieval evaluation: StackFAQ (public benchmark) and the bundled demo questions."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from knowledge.kb import KnowledgeBase

MODES = ("dense", "lexical", "rrf", "hybrid")

# Off-topic requests a customer-service knowledge base must not answer from its articles.
UNRELATED_QUERIES = [
    "what's the weather in Paris",
    "write me a python function",
    "tell me a joke",
    "who won the world cup",
    "what is the capital of France",
    "solve 2x+3=7",
    "translate hello into German",
    "recommend a good movie",
    "how tall is mount everest",
    "what is the meaning of life",
    "who is the president",
    "give me a recipe for pancakes",
    "explain quantum physics",
    "sing me a song",
    "今天巴黎天气怎么样",
    "帮我写一个Python函数",
    "给我讲个笑话",
    "世界杯谁赢了",
]


def _ranked_docs(
    kb: KnowledgeBase, query: str, key: Callable[[str], str], k: int = 10
) -> tuple[list[str], float]:
    """Distinct documents in rank order (min_score ignored) and the best fused score."""
    saved, kb.min_score = kb.min_score, 0.0
    try:
        hits = kb.search(query, k=3 * k, kinds={"document"})
    finally:
        kb.min_score = saved
    docs = list(dict.fromkeys(key(h.uri) for h in hits))[:k]
    return docs, (hits[0].score if hits else 0.0)


def _metrics(ranks: list[int | None]) -> dict:
    n = len(ranks) or 1
    return {
        "n": len(ranks),
        "mrr_at_10": round(sum(1 / r for r in ranks if r and r <= 10) / n, 4),
        "recall_at_1": round(sum(1 for r in ranks if r == 1) / n, 4),
        "recall_at_5": round(sum(1 for r in ranks if r and r <= 5) / n, 4),
    }


def _rank(docs: list[str], gold: set[str]) -> int | None:
    return next((i + 1 for i, d in enumerate(docs) if d in gold), None)


class QueryCache:
    """Wraps an embedder: queries embedded in batches up front (`prime`), then answered from the cache."""

    def __init__(self, embedder) -> None:
        self.inner = embedder
        self._cache: dict[str, np.ndarray] = {}

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def prime(self, queries: Iterable[str], batch: int = 64) -> None:
        todo = [q for q in dict.fromkeys(queries) if q not in self._cache]
        for i in range(0, len(todo), batch):
            part = todo[i : i + batch]
            self._cache.update(zip(part, self.inner.embed_queries(part), strict=True))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self._cache]
        if missing:
            self.prime(missing)
        return np.stack([self._cache[t] for t in texts])


def stackfaq_queries(path: Path) -> list[tuple[int, str]]:
    """(thread index, paraphrase) pairs, skipping null and "*" paraphrases."""
    threads = json.loads(Path(path).read_text(encoding="utf-8"))["root"]["qapair"]
    return [
        (i, str(q))
        for i, t in enumerate(threads)
        for q in (t.get("rephr") or [])
        if q and str(q).strip() and str(q).strip() != "*"
    ]


def stackfaq_file(path: Path) -> Path:
    """StackFAQ's JSON file, given it or its folder."""
    path = Path(path)
    return path / "stackExchange-FAQ.json" if path.is_dir() else path


def write_stackfaq_documents(path: Path, folder: Path) -> Path:
    """One Markdown document per StackFAQ thread (t000.md, …: title = question, a section per answer)."""
    threads = json.loads(Path(path).read_text(encoding="utf-8"))["root"]["qapair"]
    folder.mkdir(parents=True)
    for i, t in enumerate(threads):
        answers = "\n\n".join(f"## Answer {j + 1}\n\n{a}" for j, a in enumerate(t.get("answer") or []))
        title = " ".join(str(t["question"]).split()).replace('"', "'")
        (folder / f"t{i:03d}.md").write_text(f'---\ntitle: "{title}"\nlanguage: en\n---\n\n{answers}\n')
    return folder


def evaluate_stackfaq(
    path: Path, kb_factory: Callable[[Path], KnowledgeBase], modes: Iterable[str] | None = None
) -> dict:
    """MRR@10, Recall@1/@5 on StackFAQ: one Markdown doc per thread, queried with its paraphrases.

    `kb_factory(folder)` must return a fresh `KnowledgeBase` stored in `folder`. With `modes` (e.g.
    MODES) the one index is scored once per fusion mode and the result is {mode: metrics}.
    """
    path = stackfaq_file(path)
    with tempfile.TemporaryDirectory() as tmp:
        docs = write_stackfaq_documents(path, Path(tmp) / "docs")
        kb = kb_factory(Path(tmp) / "kb")
        report = kb.ingest([docs])
        queries = stackfaq_queries(path)
        cache = QueryCache(kb.embedder)  # search embeds through the vector sync's embedder
        kb.vector_sync.embedder = cache
        cache.prime(q for _, q in queries)
        out: dict = {}
        saved = kb.scorer.mode
        for mode in list(modes or [saved]):
            kb.scorer.mode = mode
            ranks = [
                _rank(_ranked_docs(kb, q, key=lambda uri: Path(uri).stem)[0], {f"t{i:03d}"})
                for i, q in queries
            ]
            out[mode] = {**_metrics(ranks), "documents": report.added, "errors": len(report.errors)}
        kb.scorer.mode = saved
        return out if modes else out[saved]


def evaluate_demo(kb: KnowledgeBase, eval_files: list[Path] | None = None) -> dict:
    """Metrics per language on demo/eval/retrieval-*.jsonl, plus threshold behaviour at kb.min_score.

    The KB must already hold the demo articles. `answered` = share of real questions whose best hit
    passes min_score; `unrelated_silent` = share of off-topic queries that return nothing.
    """
    if eval_files is None:
        eval_files = sorted((Path(__file__).parent / "demo" / "eval").glob("retrieval-*.jsonl"))
    by_lang: dict[str, list[int | None]] = {}
    passed: dict[str, list[bool]] = {}
    for f in eval_files:
        for line in f.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            ranked, best = _ranked_docs(kb, item["question"], key=lambda uri: Path(uri).stem)
            lang = item.get("language", "und")
            by_lang.setdefault(lang, []).append(_rank(ranked, set(item["relevant"])))
            passed.setdefault(lang, []).append(best >= kb.min_score)
    out: dict = {}
    for lang, ranks in sorted(by_lang.items()):
        out[lang] = {**_metrics(ranks), "answered": round(sum(passed[lang]) / len(passed[lang]), 4)}
    silent = [not kb.search(q, k=5) for q in UNRELATED_QUERIES]
    out["unrelated_silent"] = round(sum(silent) / len(silent), 4)
    return out
