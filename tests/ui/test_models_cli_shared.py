"""`lepton models` on a configured home: the versions in the shared `artifact_dir`, the pointer in PostgreSQL
(`database_url`) or, without one, current.json in that folder; a promotion or rollback made by the CLI of one
replica is what every other replica reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from assistant.config import load_settings
from assistant.model_registries import adapter_registry, intent_registry, unshared_models_warning

ROOT = Path(__file__).resolve().parents[2]


def lepton(*args: str, home: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", *args, "--home", str(home)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "1000", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _versions(registry, tmp_path: Path, n: int) -> list[str]:
    model = tmp_path / f"model-{registry.root.name}"
    model.mkdir(exist_ok=True)
    (model / "labels.json").write_text("[]")
    return [registry.register(model, metrics={}, data_fingerprint=str(i), config={}) for i in range(n)]


def test_the_cli_of_one_replica_promotes_and_rolls_back_for_all(postgres_url: str, tmp_path: Path) -> None:
    shared = tmp_path / "artifacts"
    env = {"LEPTON_DATABASE_URL": postgres_url, "LEPTON_ARTIFACT_DIR": str(shared)}
    here, there = (
        load_settings(home=tmp_path / n, database_url=postgres_url, artifact_dir=shared) for n in "ab"
    )
    for s in (here, there):
        s.home.mkdir()
    assert here.intents_dir == shared / "intents" and here.models_dir == here.home / "models"
    v1, v2 = _versions(intent_registry(here), tmp_path, 2)
    a1, a2 = _versions(adapter_registry(here), tmp_path, 2)

    for args in (
        ["models", "promote", v1],
        ["models", "promote", v2],
        ["models", "promote", a2, "--generator"],
    ):
        run = lepton(*args, home=there.home, env=env)
        assert run.returncode == 0, run.stderr
    assert intent_registry(here).current()[0] == v2  # type: ignore[index]
    assert adapter_registry(here).current()[0] == a2  # type: ignore[index]
    listed = json.loads(lepton("models", "list", "--json", home=here.home, env=env).stdout)
    assert [row["version"] for row in listed if row["current"]] == [v2]
    assert lepton("models", "rollback", home=there.home, env=env).stdout.strip() == f"{v1} is current"
    assert intent_registry(here).current()[0] == v1  # type: ignore[index]
    assert not list(shared.rglob("current.json"))  # the pointers are the database's
    assert unshared_models_warning(here) is None
    assert "artifact_dir" in (
        unshared_models_warning(load_settings(home=here.home, database_url=postgres_url)) or ""
    )


def test_a_shared_folder_without_a_database_keeps_the_file_pointer(tmp_path: Path) -> None:
    shared = tmp_path / "artifacts"
    settings = load_settings(home=tmp_path / "home", artifact_dir=shared)
    settings.home.mkdir()
    v1, v2 = _versions(intent_registry(settings), tmp_path, 2)
    run = lepton("models", "promote", v2, home=settings.home, env={"LEPTON_ARTIFACT_DIR": str(shared)})
    assert run.returncode == 0, run.stderr
    assert json.loads((shared / "intents" / "current.json").read_text())["version"] == v2
    assert not (settings.home / "models").exists()  # nothing in the home's own folder
    assert unshared_models_warning(settings) is None
    plain = load_settings(home=tmp_path / "home")  # the default: HOME/models, as before
    assert plain.intents_dir == plain.home / "models" / "intents" and intent_registry(plain).current() is None
