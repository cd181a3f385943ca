"""Offline defaults and device selection shared by the generation components."""

from __future__ import annotations

from knowledge.runtime_env import amx_bf16, set_offline


def pick_device(device: str | None = None) -> tuple[str, object]:
    """Return (device, dtype): CUDA + bfloat16 when available; CPU + bfloat16 where the CPU has AMX tiles
    (prefill measured 2.7x faster: time to first token 258 ms against 690 ms in float32 on 2 cores, same
    decode speed); CPU + float32 elsewhere."""
    import torch

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        return device, torch.bfloat16
    return device, torch.bfloat16 if amx_bf16() else torch.float32


set_offline()
