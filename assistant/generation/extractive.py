"""Extractive fallback answer: the passage sentences closest to the question."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from assistant.generation.passage import Passage
from assistant.generation.text import CJK_RE, content_tokens, markdown_lines, split_sentences


def _candidates(passages: list[Passage]) -> list[tuple[int, int, str]]:
    """(passage rank, position, sentence) for every body sentence (headings and fragments skipped)."""
    out = []
    for rank, p in enumerate(passages):
        pos = 0
        for line, heading in markdown_lines(p.text):
            if heading:
                continue
            for s in split_sentences(line):
                if s.rstrip().endswith(("?", "？")):
                    continue  # questions ("Forgotten your password?") are not answers
                cjk = len(CJK_RE.findall(s))
                if cjk >= 6 or (cjk == 0 and len(content_tokens(s)) >= 2 and len(s) >= 15):
                    out.append((rank, pos, s))
                    pos += 1
    return out


def _lexical(q: set[str], s: set[str]) -> float:
    """Share of the question's content tokens in the sentence, mildly favouring short sentences."""
    if not q or not s:
        return 0.0
    return len(q & s) / len(q) / (1.0 + len(s) / 60.0)


def _unit(x: np.ndarray) -> np.ndarray:
    span = float(x.max() - x.min()) if x.size else 0.0
    return (x - x.min()) / span if span > 1e-9 else np.zeros_like(x, dtype=float)


def extractive_answer(
    question: str,
    passages: list[Passage],
    language: str,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    max_sentences: int = 3,
) -> str:
    """Up to `max_sentences` sentences from the best passages most similar to the question, in passage
    order, as plain text (no Markdown); passages in `language` are preferred."""
    lang = language.lower().split("-")[0]
    same = [p for p in passages if p.language.lower().split("-")[0] == lang]
    pool = same or list(passages)
    cands = _candidates(pool)
    if not cands:
        return ""
    texts = [s for _, _, s in cands]
    q = content_tokens(question)
    scores = _unit(np.array([_lexical(q, content_tokens(t)) for t in texts]))
    if embed is not None:
        # Blend min-max normalised cosine with lexical overlap: embedders differ in cosine range, and
        # exact words (product names, "express") matter in support answers.
        vecs = np.asarray(embed([question, *texts]), dtype=np.float32)
        scores = 0.5 * scores + 0.5 * _unit(vecs[1:] @ vecs[0])
    # Retrieval order is a useful prior: earlier passages get a small bonus.
    scores = scores + np.array([0.03 * (rank == 0) for rank, _, _ in cands])
    best_rank = cands[int(np.argmax(scores))][0]
    # Stay within the best passage (plus the next-best one) so the answer reads coherently.
    order = sorted(range(len(cands)), key=lambda k: -scores[k])
    top = float(scores[order[0]])
    keep: list[int] = []
    kept_tokens: list[set[str]] = []
    for k in order:
        rank = cands[k][0]
        if rank != best_rank and len({cands[i][0] for i in keep} | {rank}) > 2:
            continue
        if keep and scores[k] < 0.5 * top:
            break
        toks = content_tokens(cands[k][2])
        if any(len(toks & t) >= 0.7 * min(len(toks), len(t)) for t in kept_tokens):
            continue  # near-duplicate of a sentence already chosen
        keep.append(k)
        kept_tokens.append(toks)
        if len(keep) >= max_sentences:
            break
    keep.sort(key=lambda k: (cands[k][0] != best_rank, cands[k][0], cands[k][1]))
    sep = "" if lang == "zh" else " "
    parts = []
    for k in keep:
        s = cands[k][2].strip().rstrip(";；:：,，、 ")
        if s[-1] not in ".!?。！？":
            s += "。" if CJK_RE.search(s) else "."
        parts.append(s)
    return sep.join(parts)
