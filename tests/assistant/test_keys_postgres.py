"""Keys on PostgreSQL: replicas (processes with their own homes, one database) share them, a revocation counts
everywhere at once, and the shared pepper is a secret every replica reads; without it nothing starts."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.config import load_settings
from assistant.keys import KeyPepperError, KeyStore

ROOT = Path(__file__).resolve().parents[2]


def lepton(*args: str, home: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`lepton ARGS --home HOME` in its own process (another replica)."""
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", *args, "--home", str(home)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "1000", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_keys_made_on_one_replica_work_on_another_and_revocations_count_at_once(
    postgres_url: str, tmp_path: Path
) -> None:
    pepper = secrets.token_urlsafe(32)
    env = {"LEPTON_DATABASE_URL": postgres_url, "LEPTON_KEY_PEPPER": pepper}
    here = KeyStore.from_settings(
        load_settings(home=tmp_path / "a", database_url=postgres_url, key_pepper=pepper)
    )
    admin = here.create("admin", name="made here")

    made = lepton(
        "keys",
        "create",
        "--kind",
        "widget",
        "--origin",
        "https://shop.example.com",
        home=tmp_path / "b",
        env=env,
    )
    assert made.returncode == 0, made.stderr
    widget = made.stdout.strip().splitlines()[-1]
    info = here.verify(widget)
    assert (
        info is not None and info.kind == "widget" and here.widget_origins() == {"https://shop.example.com"}
    )
    listed = json.loads(lepton("keys", "list", "--json", home=tmp_path / "b", env=env).stdout)
    assert {k["name"] for k in listed} == {"made here", ""}

    # Revoked by the other replica: refused here on the very next check (nothing is cached in a process).
    admin_id = here.verify(admin).id
    assert lepton("keys", "revoke", admin_id, home=tmp_path / "b", env=env).returncode == 0
    assert here.verify(admin) is None and here.live(admin_id) is None
    # Users' digests agree across replicas too (the same pepper).
    other = KeyStore(tmp_path / "c" / "keys.db", database_url=postgres_url, pepper=pepper.encode())
    assert other.fingerprint("cust-42") == here.fingerprint("cust-42")
    # Keys live in the database only: no replica's home holds a keys.db or a pepper.
    assert not [p for p in tmp_path.rglob("keys.*")]


def test_postgres_needs_a_shared_pepper(postgres_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    with pytest.raises(KeyPepperError, match="LEPTON_KEY_PEPPER"):
        KeyStore.from_settings(load_settings(home=home, database_url=postgres_url))
    with pytest.raises(KeyPepperError, match="LEPTON_KEY_PEPPER"):
        KeyStore(home / "keys.db", database_url=postgres_url)
    with pytest.raises(KeyPepperError, match="too short"):
        KeyStore.from_settings(load_settings(home=home, database_url=postgres_url, key_pepper="short"))
    pepper_file = tmp_path / "secrets" / "lepton-pepper"
    with pytest.raises(KeyPepperError, match="cannot read"):
        KeyStore.from_settings(
            load_settings(home=home, database_url=postgres_url, key_pepper_file=pepper_file)
        )
    pepper_file.parent.mkdir()
    pepper_file.write_bytes(secrets.token_bytes(32))
    with pytest.raises(KeyPepperError, match="not both"):
        KeyStore.from_settings(
            load_settings(
                home=home, database_url=postgres_url, key_pepper_file=pepper_file, key_pepper="x" * 40
            )
        )
    # A pepper file every replica reads: the same keys verify through either.
    one = KeyStore.from_settings(
        load_settings(home=tmp_path / "one", database_url=postgres_url, key_pepper_file=pepper_file)
    )
    two = KeyStore.from_settings(
        load_settings(home=tmp_path / "two", database_url=postgres_url, key_pepper_file=pepper_file)
    )
    assert two.verify(one.create("admin")) is not None


def test_the_commands_refuse_postgres_without_a_pepper_in_one_line(postgres_url: str, tmp_path: Path) -> None:
    env = {"LEPTON_DATABASE_URL": postgres_url}
    keys = lepton("keys", "list", home=tmp_path / "home", env=env)
    assert keys.returncode == 2 and "LEPTON_KEY_PEPPER" in keys.stderr and "Traceback" not in keys.stderr
    started = time.monotonic()
    serve = lepton("serve", "--port", "1", home=tmp_path / "home", env=env)
    assert serve.returncode == 2 and "LEPTON_KEY_PEPPER" in serve.stderr and "Traceback" not in serve.stderr
    assert time.monotonic() - started < 30  # refused before the server stack and its models load


def test_sqlite_keeps_the_homes_own_pepper(tmp_path: Path) -> None:
    """Without database_url a configured pepper is not used: the home's keys.pepper keeps its keys valid."""
    home = tmp_path / "home"
    plain = KeyStore.from_settings(load_settings(home=home))
    key = plain.create("admin")
    configured = KeyStore.from_settings(load_settings(home=home, key_pepper=secrets.token_urlsafe(32)))
    assert configured.verify(key) is not None and (home / "keys.pepper").stat().st_size == 32
