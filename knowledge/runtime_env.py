"""Process settings for the bundled models (embedders, classifier, generator): offline, and the CPU's dtype."""

from __future__ import annotations

import os


def set_offline() -> None:
    """Forbid any Hugging Face Hub download; everything must already be on disk."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # Busy-waiting OpenMP threads waste shared CPU cores; only effective if set before torch loads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def amx_bf16() -> bool:
    """True where the CPU multiplies bfloat16 matrices in AMX tiles (Sapphire Rapids and later)."""
    import torch

    return bool(getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)())


def set_model_threads(threads: int) -> None:
    """Torch's intra-op threads for each inference (0 leaves torch's default of one per core)."""
    if threads > 0:
        import torch

        torch.set_num_threads(threads)
