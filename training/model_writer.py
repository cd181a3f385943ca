"""Writing a trained intent model folder and publishing it atomically."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from training.calibration import OOSDetector
from training.model import IntentEnsemble, IntentNet


def write_model(
    folder: Path,
    net: IntentNet | IntentEnsemble,
    tokenizer: Any,
    labels: list[str],
    detector: OOSDetector,
    metrics: dict[str, Any],
    config: dict[str, Any],
) -> None:
    """Member 0 in encoder/ + head.safetensors (the single-model layout); member k in member-k/."""
    from safetensors.torch import save_file

    members = list(net.members) if isinstance(net, IntentEnsemble) else [net]
    for k, member in enumerate(members):
        sub = folder if k == 0 else folder / f"member-{k}"
        member.encoder.save_pretrained(str(sub / "encoder"), safe_serialization=True)
        tokenizer.save_pretrained(str(sub / "encoder"))
        head = {n: v.detach().float().cpu().contiguous() for n, v in member.head.state_dict().items()}
        save_file(head, str(sub / "head.safetensors"))
    (folder / "labels.json").write_text(json.dumps(labels, ensure_ascii=False, indent=1))
    detector.save(folder)
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (folder / "config.json").write_text(json.dumps({**config, "members": len(members)}, indent=2))


def atomic_publish(tmp: Path, out_dir: Path) -> None:
    """Rename a finished temp folder into place, replacing any previous model folder."""
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{int(time.time() * 1e6)}")
        out_dir.rename(old)
    tmp.rename(out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
