"""API keys: stored only as hashes, verified, revoked; the `lepton keys` commands. The tests taking
`database_url` run on SQLite files and on the real PostgreSQL of the tests."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.keys import KeyStore, normalize_origin

ROOT = Path(__file__).resolve().parents[3]
PEPPER = secrets.token_urlsafe(32)


def open_keys(folder: Path, database_url: str | None, pepper: str = PEPPER) -> KeyStore:
    """One home's key store: its own SQLite file (and pepper), or the shared database with a shared pepper."""
    if database_url is None:
        return KeyStore(folder / "keys.db")
    return KeyStore(folder / "keys.db", database_url=database_url, pepper=pepper.encode())


def _stored_bytes(folder: Path, store: KeyStore) -> bytes:
    """Everything the store wrote: its files, or every row of its table in PostgreSQL."""
    if store.engine.dialect.name == "sqlite":
        return b"".join(p.read_bytes() for p in folder.iterdir() if p.name.startswith("keys.db"))
    with store.engine.connect() as conn:
        return repr(conn.exec_driver_sql("SELECT * FROM keys").all()).encode()


def test_keys_are_stored_only_as_hashes(tmp_path: Path, database_url: str | None) -> None:
    store = open_keys(tmp_path, database_url)
    admin = store.create("admin", name="ops")
    widget = store.create("widget", ["https://Shop.Example.com:443/"], name="shop")
    assert admin.startswith("lk_admin_") and widget.startswith("lk_widget_")
    raw = _stored_bytes(tmp_path, store)
    assert store.verify(admin).id.encode() in raw  # the check reads what was written
    for key in (admin, widget):
        assert key.encode() not in raw
        assert key.split("_", 2)[2].encode() not in raw
    assert store.verify(admin).kind == "admin"
    info = store.verify(widget)
    assert info is not None and info.kind == "widget" and info.origins == ["https://shop.example.com"]
    assert store.verify(widget + "x") is None and store.verify("") is None and store.verify(None) is None
    # A second store on the same files or database (another process) verifies the same keys: the pepper is
    # shared.
    assert open_keys(tmp_path, database_url).verify(admin) is not None
    # The same key under another store's pepper is worthless.
    assert open_keys(tmp_path / "other", database_url, pepper=secrets.token_urlsafe(32)).verify(admin) is None


def test_revoked_keys_stop_working_and_leave_cors(tmp_path: Path, database_url: str | None) -> None:
    store = open_keys(tmp_path, database_url)
    key = store.create("widget", ["http://localhost:3000"])
    info = store.verify(key)
    assert info is not None and store.widget_origins() == {"http://localhost:3000"}
    assert store.revoke(info.id) and not store.revoke(info.id)
    assert store.verify(key) is None and store.widget_origins() == set()
    assert [k.public()["revoked"] for k in store.list()] == [True]


@pytest.mark.parametrize(
    ("kind", "origins"),
    [
        ("root", []),
        ("widget", []),
        ("admin", ["https://a.example"]),
        ("widget", ["*"]),
        ("widget", ["null"]),
        ("widget", ["https://a.example/path"]),
        ("widget", ["ftp://a.example"]),
    ],
)
def test_bad_keys_are_refused(tmp_path: Path, kind: str, origins: list[str]) -> None:
    with pytest.raises(ValueError):
        KeyStore(tmp_path / "keys.db").create(kind, origins)


def test_origins_are_normalized() -> None:
    assert normalize_origin("HTTPS://Shop.Example.com/") == "https://shop.example.com"
    assert normalize_origin("http://localhost:80") == "http://localhost"
    assert normalize_origin("http://127.0.0.1:8080") == "http://127.0.0.1:8080"


def test_cli_creates_lists_and_revokes(tmp_path: Path, database_url: str | None) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "LEPTON_DATABASE_URL": database_url or "", "LEPTON_KEY_PEPPER": PEPPER}

    def _cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ui.cli", "keys", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    admin = _cli("create", "--kind", "admin", "--home", str(home))
    assert admin.returncode == 0, admin.stderr
    admin_key = admin.stdout.strip().splitlines()[-1]
    widget = _cli(
        "create",
        "--kind",
        "widget",
        "--origin",
        "https://shop.example.com",
        "--origin",
        "http://localhost:3000",
        "--name",
        "shop",
        "--home",
        str(home),
    )
    assert widget.returncode == 0, widget.stderr
    widget_key = widget.stdout.strip().splitlines()[-1]
    assert admin_key.startswith("lk_admin_") and widget_key.startswith("lk_widget_")
    assert _cli("create", "--kind", "widget", "--home", str(home)).returncode != 0

    store = open_keys(home, database_url)
    assert store.verify(admin_key).kind == "admin"
    assert set(store.verify(widget_key).origins) == {"https://shop.example.com", "http://localhost:3000"}

    listed = _cli("list", "--json", "--home", str(home))
    keys = json.loads(listed.stdout)
    assert [k["kind"] for k in keys] == ["admin", "widget"]
    assert admin_key not in listed.stdout and widget_key not in listed.stdout

    widget_id = next(k["id"] for k in keys if k["kind"] == "widget")
    assert _cli("revoke", widget_id, "--home", str(home)).returncode == 0
    assert store.verify(widget_key) is None
    assert _cli("revoke", widget_id, "--home", str(home)).returncode != 0
