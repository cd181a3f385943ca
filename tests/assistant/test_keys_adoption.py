"""A home made by the previous release (keys.db written by sqlite-utils, no alembic_version): the new key store
adopts its table as it is, and every key keeps working."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from assistant.keys import KeyStore

ROOT = Path(__file__).resolve().parents[2]
# keys_previous_release.sql was dumped from a keys.db made on main at e9a0cd5 with these keys and pepper.
DUMP = Path(__file__).with_name("keys_previous_release.sql")
PEPPER = bytes.fromhex("9207119858ac40e8fc2475c3848ced87f2fe0925807af8e952c7f456df22852b")
ADMIN = "lk_admin_DkQh8lOZkG69aZLlTCUBoJp-QJQqX1xf"
WIDGET = "lk_widget_dQ1TLZ1B0XtUf_jYydV7ECkXMoKq9wiK"
REVOKED = "lk_admin_0E-5qGFxNTm2sUWxDXBNPx8hOgyNvozG"
FINGERPRINT = "be4e9a1e9b53750b69e0d8aec72c506b"  # of "cust-42": users' digests stay linkable


def previous_release_home(home: Path) -> Path:
    home.mkdir(parents=True)
    with sqlite3.connect(home / "keys.db") as conn:
        conn.executescript(DUMP.read_text())
    (home / "keys.pepper").write_bytes(PEPPER)
    return home


def rows(path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return list(conn.execute(sql))


def test_keys_of_a_previous_release_home_keep_working(tmp_path: Path) -> None:
    home = previous_release_home(tmp_path / "home")
    before = rows(home / "keys.db", "SELECT * FROM keys ORDER BY id")
    assert rows(home / "keys.db", "SELECT name FROM sqlite_master WHERE name = 'alembic_version'") == []

    store = KeyStore(home / "keys.db")
    admin, widget = store.verify(ADMIN), store.verify(WIDGET)
    assert admin is not None and (admin.id, admin.kind, admin.name) == ("3a24dde1", "admin", "ops")
    assert widget is not None and widget.origins == ["https://shop.example.com"]
    assert store.verify(REVOKED) is None
    assert store.fingerprint("cust-42") == FINGERPRINT
    assert store.widget_origins() == {"https://shop.example.com"}
    assert [k.revoked_at is not None for k in store.list()] == [False, False, True]
    # Adopted, not rebuilt: the rows are the same, and the table is recorded as the keys baseline.
    assert rows(home / "keys.db", "SELECT * FROM keys ORDER BY id") == before
    assert rows(home / "keys.db", "SELECT version_num FROM alembic_version") == [("keys_0001",)]

    fresh = store.create("admin", name="after the upgrade")
    assert store.revoke(admin.id)
    store.close()
    again = KeyStore(home / "keys.db")
    assert (
        again.verify(fresh) is not None and again.verify(ADMIN) is None and again.verify(WIDGET) is not None
    )


def _db_upgrade(home: Path) -> list[dict]:
    run = subprocess.run(
        [sys.executable, "-m", "ui.cli", "db", "upgrade", "--json", "--home", str(home)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout)


def test_lepton_db_upgrade_adopts_an_old_home_once(tmp_path: Path) -> None:
    home = previous_release_home(tmp_path / "home")
    first = {d["store"]: d for d in _db_upgrade(home)}
    assert (
        first["keys"]["before"] == "" and first["keys"]["after"] == "keys_0001" and first["keys"]["changed"]
    )
    assert first["keys"]["where"] == str(home / "keys.db")
    assert [d["changed"] for d in _db_upgrade(home)] == [False] * len(first)
    assert KeyStore(home / "keys.db").verify(ADMIN) is not None
