"""Serving-side intent classifier loaded from a model folder."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file
from transformers import AutoTokenizer

from training.calibration import OOSDetector
from training.inference import forward_texts
from training.model import IntentEnsemble, IntentNet, pick_device
from training.multilingual_head import MultilingualHead, decide_names
from training.train_config import OUT_OF_SCOPE


@dataclass
class IntentPrediction:
    """One classified query."""

    name: str
    confidence: float
    ranking: list[tuple[str, float]] = field(default_factory=list)
    is_oos: bool = False


def decide(
    logits: torch.Tensor, emb: torch.Tensor, detector: OOSDetector, top_k: int = 5
) -> list[IntentPrediction]:
    """Turn network outputs into predictions: top in-scope labels plus the OOS decision."""
    labels = detector.labels
    probs = detector.probs(logits, emb)
    in_scope = detector.in_scope
    flags, _ = detector.detect(logits, emb)
    k = min(top_k, len(in_scope))
    top_p, top_i = probs[:, in_scope].topk(k, dim=-1)
    preds: list[IntentPrediction] = []
    for row in range(len(logits)):
        ranking = [(labels[int(in_scope[j])], float(p)) for p, j in zip(top_p[row], top_i[row], strict=True)]
        is_oos = bool(flags[row])
        if is_oos:
            conf = float(probs[row, detector.oos_index]) if detector.oos_index is not None else 0.0
            conf = max(conf, 1.0 - ranking[0][1])
            preds.append(IntentPrediction(OUT_OF_SCOPE, min(max(conf, 0.0), 1.0), ranking, True))
        else:
            preds.append(IntentPrediction(ranking[0][0], ranking[0][1], ranking, False))
    return preds


class IntentClassifier:
    """A trained intent model; `load` is light, `warm_up` reads the weights."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.labels: list[str] = json.loads((self.path / "labels.json").read_text())
        self.config: dict = json.loads((self.path / "config.json").read_text())
        self._net: IntentNet | IntentEnsemble | None = None
        self._tokenizer: object | None = None
        self._detector: OOSDetector | None = None
        self._head: MultilingualHead | None = None
        self._device = pick_device()
        self._load_lock = threading.Lock()
        self._tok_lock = threading.Lock()

    @classmethod
    def load(cls, path: Path) -> IntentClassifier:
        """Read labels and config only; weights load on first use or `warm_up`."""
        return cls(path)

    @property
    def device(self) -> torch.device:
        return self._device

    def warm_up(self) -> None:
        """Load encoder, head, tokenizer and OOS detector onto CPU or CUDA."""
        with self._load_lock:
            if self._net is not None:
                return
            enc_dir = self.path / "encoder"
            members = []
            for k in range(max(1, int(self.config.get("members", 1)))):
                sub = self.path if k == 0 else self.path / f"member-{k}"
                member = IntentNet(sub / "encoder", len(self.labels), dropout=0.0)
                head = load_file(str(sub / "head.safetensors"))
                member.head.load_state_dict({"weight": head["weight"], "bias": head["bias"]})
                members.append(member)
            net = members[0] if len(members) == 1 else IntentEnsemble(members)
            net.to(self._device).eval()
            detector = OOSDetector.load(self.path, self.labels)
            self._tokenizer = AutoTokenizer.from_pretrained(str(enc_dir))
            self._head = MultilingualHead.load(self.path)
            self._detector = detector
            self._net = net

    def _tokenize(self, texts: list[str], **kw: object) -> dict:
        with self._tok_lock:  # fast tokenizers are not safe for concurrent use
            return self._tokenizer(texts, **kw)  # type: ignore[operator,misc]

    def predict(self, texts: list[str], batch_size: int = 64) -> list[IntentPrediction]:
        """Classify a batch of queries; safe to call from several threads."""
        if not texts:
            return []
        self.warm_up()
        assert self._net is not None and self._detector is not None
        if self._head is not None and self._head.weight == 0.0:
            # Validation gave MiniLM no weight in the blend: skip its forward pass (half the CPU per turn).
            return self._blended(None, None, list(texts))
        logits, emb = forward_texts(
            self._net,
            self._tokenize,
            list(texts),
            self._device,
            max_length=int(self.config.get("max_length", 64)),
            batch_size=batch_size,
        )
        if self._head is not None:
            return self._blended(logits, emb, list(texts))
        return decide(logits, emb, self._detector)

    def _blended(
        self, logits: torch.Tensor | None, emb: torch.Tensor | None, texts: list[str], top_k: int = 5
    ) -> list[IntentPrediction]:
        """Predictions from the MiniLM probabilities (with the kNN vote) blended with the multilingual head's."""
        assert self._head is not None and self._detector is not None
        if logits is None or emb is None:
            probs = self._head.predict_proba(texts)
        else:
            probs = self._head.blend(self._detector.probs(logits, emb).numpy(), texts)
        names = decide_names(
            probs, self.labels, OUT_OF_SCOPE if OUT_OF_SCOPE in self.labels else None, self._head.threshold
        )
        in_scope = [i for i, name in enumerate(self.labels) if name != OUT_OF_SCOPE]
        oos = self.labels.index(OUT_OF_SCOPE) if OUT_OF_SCOPE in self.labels else None
        preds = []
        for row, name in zip(probs, names, strict=True):
            order = sorted(in_scope, key=lambda i: -row[i])[:top_k]
            ranking = [(self.labels[i], float(row[i])) for i in order]
            if name == OUT_OF_SCOPE:
                conf = max(float(row[oos]) if oos is not None else 0.0, 1.0 - ranking[0][1])
                preds.append(IntentPrediction(OUT_OF_SCOPE, min(conf, 1.0), ranking, True))
            else:
                preds.append(IntentPrediction(name, ranking[0][1], ranking, False))
        return preds
