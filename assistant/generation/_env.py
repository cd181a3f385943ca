"""Offline defaults and device selection shared by the generation components."""

from __future__ import annotations

import os


def set_offline() -> None:
    """Forbid any Hugging Face Hub download; everything must already be on disk."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # Busy-waiting OpenMP threads waste shared CPU cores; only effective if set before torch loads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def pick_device(device: str | None = None) -> tuple[str, object]:
    """Return (device, dtype): CUDA + bfloat16 when available, else CPU + float32."""
    import torch

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    return device, dtype


set_offline()
