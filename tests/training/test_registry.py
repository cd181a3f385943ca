from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from training import ModelRegistry


def _fake_model(root: Path, name: str) -> Path:
    d = root / name
    d.mkdir()
    (d / "labels.json").write_text(json.dumps([name]))
    return d


def test_register_promote_rollback(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path / "models" / "intents")
    assert reg.current() is None and reg.rollback() is None and reg.list() == []
    v1 = reg.register(_fake_model(tmp_path, "a"), metrics={"macro_f1": 0.8}, data_fingerprint="f1", config={})
    v2 = reg.register(
        _fake_model(tmp_path, "b"), metrics={"macro_f1": 0.9}, data_fingerprint="f2", config={"x": 1}
    )
    assert (v1, v2) == ("v0001", "v0002")
    assert reg.current() is None  # registering does not promote
    reg.promote(v1)
    reg.promote(v2)
    version, path = reg.current()  # type: ignore[misc]
    assert version == "v0002" and json.loads((path / "labels.json").read_text()) == ["b"]
    listed = reg.list()
    assert [e["version"] for e in listed] == ["v0001", "v0002"]
    assert listed[1]["current"] and listed[1]["metrics"] == {"macro_f1": 0.9}
    assert listed[1]["data_fingerprint"] == "f2" and listed[1]["config"] == {"x": 1}
    assert reg.rollback() == "v0001"
    assert reg.current()[0] == "v0001"  # type: ignore[index]
    assert reg.rollback() is None
    for name in ("v0099", "v0001/../v0002", "../intents/versions/v0002", "", "V0002"):
        with pytest.raises(KeyError):  # unknown, or a path rather than a version name
            reg.promote(name)
    assert reg.current()[0] == "v0001"  # type: ignore[index]


def test_pointer_survives_a_crash_mid_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reg = ModelRegistry(tmp_path / "reg")
    v1 = reg.register(_fake_model(tmp_path, "a"), metrics={}, data_fingerprint="", config={})
    v2 = reg.register(_fake_model(tmp_path, "b"), metrics={}, data_fingerprint="", config={})
    reg.promote(v1)

    def boom(src: str, dst: str) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        reg.promote(v2)
    monkeypatch.undo()
    assert reg.current()[0] == v1  # type: ignore[index]
    assert [p.name for p in (tmp_path / "reg").iterdir() if p.name.startswith(".")] == []


def test_promoted_lists_every_version_that_served_and_not_the_rest(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path / "models" / "intents")
    v1, v2, v3 = (
        reg.register(_fake_model(tmp_path, n), metrics={}, data_fingerprint=n, config={}) for n in "abc"
    )
    assert reg.promoted() == []
    reg.promote(v1)
    reg.promote(v3)
    assert reg.promoted() == [v1, v3]  # v2 was registered, never promoted
    assert reg.rollback() == v1
    assert reg.promoted() == [v1]  # a version rolled back from is no longer counted
