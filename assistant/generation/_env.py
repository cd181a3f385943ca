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
    """Return (device, dtype): CUDA + bfloat16 when available; CPU + bfloat16 where the CPU has AMX tiles
    (prefill measured 2.7x faster: time to first token 258 ms against 690 ms in float32 on 2 cores, same
    decode speed); CPU + float32 elsewhere."""
    import torch

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        return device, torch.bfloat16
    amx = getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    return device, torch.bfloat16 if amx() else torch.float32


set_offline()
