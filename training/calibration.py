"""The fitted out-of-scope detector stored with a model."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from training import ood
from training.knn_vote import KnnVote, blended_probs
from training.train_config import OUT_OF_SCOPE


@dataclass
class OOSDetector:
    """Flags a query out of scope when its score is below `threshold` or its argmax is the OOS class."""

    labels: list[str]
    method: str = "msp"
    threshold: float = float("-inf")
    means: torch.Tensor | None = None
    precision: torch.Tensor | None = None
    info: dict[str, Any] = field(default_factory=dict)
    bank: torch.Tensor | None = None  # normalised in-scope training embeddings, for the "knn" score
    bank_labels: torch.Tensor | None = None  # label index of each bank row, for the kNN vote
    knn: KnnVote | None = None  # the vote blended into the head's probabilities (weight 0 = none)

    @property
    def oos_index(self) -> int | None:
        return self.labels.index(OUT_OF_SCOPE) if OUT_OF_SCOPE in self.labels else None

    @property
    def in_scope(self) -> torch.Tensor:
        return torch.tensor([i for i, lab in enumerate(self.labels) if lab != OUT_OF_SCOPE], dtype=torch.long)

    def score(self, logits: torch.Tensor, emb: torch.Tensor, method: str | None = None) -> torch.Tensor:
        return ood.scores(
            method or self.method, logits, emb, self.in_scope, self.means, self.precision, self.bank
        )

    def probs(self, logits: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        """Label probabilities: the head's softmax, blended with the kNN vote when one was chosen."""
        return blended_probs(logits, emb, self.bank, self.bank_labels, self.knn)

    def top_in_scope(self, logits: torch.Tensor, emb: torch.Tensor) -> list[str]:
        """The most probable in-scope label per row (served probabilities; the OOS decision left aside)."""
        ins = self.in_scope
        return [self.labels[int(ins[j])] for j in self.probs(logits, emb)[:, ins].argmax(-1).tolist()]

    def detect(self, logits: torch.Tensor, emb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (is_oos bool tensor, in-scope score tensor)."""
        s = self.score(logits, emb)
        flag = s < self.threshold
        if self.oos_index is not None:
            flag = flag | (logits.argmax(-1) == self.oos_index)
        return flag, s

    def save(self, folder: Path) -> None:
        meta = {"method": self.method, "threshold": self.threshold, "oos_label": OUT_OF_SCOPE, **self.info}
        if self.knn is not None:
            meta["knn_vote"] = self.knn.to_dict()
        (folder / "calibration.json").write_text(json.dumps(meta, indent=2))
        if self.means is not None and self.precision is not None:
            save_file(
                {"means": self.means.contiguous(), "precision": self.precision.contiguous()},
                str(folder / "mahalanobis.safetensors"),
            )
        if self.bank is not None:  # float16: the bank only ranks neighbours
            tensors = {"bank": self.bank.half().contiguous()}
            if self.bank_labels is not None:
                tensors["labels"] = self.bank_labels.long().contiguous()
            save_file(tensors, str(folder / "knn_bank.safetensors"))

    @classmethod
    def load(cls, folder: Path, labels: list[str]) -> OOSDetector:
        meta = json.loads((folder / "calibration.json").read_text())
        method, threshold = meta.pop("method"), float(meta.pop("threshold"))
        meta.pop("oos_label", None)
        knn = KnnVote(**meta.pop("knn_vote")) if "knn_vote" in meta else None
        means = precision = None
        if (folder / "mahalanobis.safetensors").exists():
            t = load_file(str(folder / "mahalanobis.safetensors"))
            means, precision = t["means"], t["precision"]
        bank = bank_labels = None
        if (folder / "knn_bank.safetensors").exists():
            t = load_file(str(folder / "knn_bank.safetensors"))
            bank, bank_labels = t["bank"].float(), t.get("labels")
        return cls(labels, method, threshold, means, precision, meta, bank, bank_labels, knn)
