"""Calibrated hybrid scoring: dense cosine mapped to [0, 1], boosted by normalised BM25."""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.lexical import coverage


@dataclass
class HybridScorer:
    """score = d + w * l * (1 - d)  ("noisy-or" boost), where

    d = clip((cos - lo) / (hi - lo), 0, 1) is the dense similarity on a per-embedder calibrated scale and
    l = bm25 / max(bm25 over the candidates) is the lexical evidence relative to the best lexical match.
    The gate means lexical evidence only boosts units the embedder already finds somewhat similar, so
    unrelated queries that merely share a word with the corpus stay below the threshold.
    Tuned on the demo questions (see knowledge/retrieval_eval.py). `mode` = "dense" / "lexical" / "rrf" exist for evaluation.
    """

    lo: float = 0.15
    hi: float = 0.70
    weight: float = 0.3
    gate: float = 0.2
    mode: str = "hybrid"
    rrf_k: int = 60

    def dense(self, cos: float) -> float:
        return min(1.0, max(0.0, (cos - self.lo) / (self.hi - self.lo)))

    def fuse(self, dense: dict[str, float], lexical: dict[str, float]) -> dict[str, float]:
        """Scores in [0, 1] for every candidate id; `dense` holds cosines for all of them."""
        top = max(lexical.values(), default=0.0)
        out: dict[str, float] = {}
        if self.mode == "rrf":
            dr = {i: r for r, i in enumerate(sorted(dense, key=dense.get, reverse=True))}
            lr = {i: r for r, i in enumerate(sorted(lexical, key=lexical.get, reverse=True))}
            for i in set(dense) | set(lexical):
                s = 1 / (self.rrf_k + dr[i] + 1) if i in dr else 0.0
                s += 1 / (self.rrf_k + lr[i] + 1) if i in lr else 0.0
                out[i] = s * (self.rrf_k + 1) / 2
            return out
        for i in set(dense) | set(lexical):
            d = self.dense(dense.get(i, self.lo))
            lx = lexical.get(i, 0.0) / top if top > 0 else 0.0
            if self.mode == "dense":
                out[i] = d
            elif self.mode == "lexical":
                out[i] = lx
            else:
                out[i] = d + self.weight * lx * (1.0 - d) * min(1.0, d / self.gate)
        return out

    def lexical_only(self, query: str, lexical: dict[str, float], units: dict[str, dict]) -> dict[str, float]:
        """Absolute lexical score for queries the embedder cannot read: term coverage, BM25 as tie-break."""
        top = max(lexical.values(), default=0.0)
        out = {}
        for i, s in lexical.items():
            u = units[i]
            cov = coverage(query, f"{u['title']}\n{u['heading']}\n{u['text']}")
            out[i] = cov * (0.7 + 0.3 * s / top)
        return out
