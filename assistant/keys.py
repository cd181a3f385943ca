"""API keys: admin keys for `/v1/admin/`, widget keys bound to the origins of the sites that embed the chat.

Keys live in HOME/keys.db only as HMAC-SHA256 digests under a per-store pepper kept in a separate file
(HOME/keys.pepper, mode 0600); the plaintext is shown once, when the key is created.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import sqlite_utils

KeyKind = Literal["admin", "widget"]
KINDS: tuple[str, ...] = ("admin", "widget")
PREFIXES = {"admin": "lk_admin_", "widget": "lk_widget_"}


@dataclass(frozen=True)
class KeyInfo:
    """What a key may do; never carries the key itself."""

    id: str
    kind: str
    origins: list[str] = field(default_factory=list)
    name: str = ""
    created_at: float = 0.0
    revoked_at: float | None = None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "origins": list(self.origins),
            "created_at": self.created_at,
            "revoked": self.revoked_at is not None,
        }


def normalize_origin(origin: str) -> str:
    """`scheme://host[:port]`, lower-cased, default ports dropped; ValueError for anything else."""
    raw = origin.strip()
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an origin (scheme://host[:port]): {origin!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"an origin has no path, query or credentials: {origin!r}")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad port in origin {origin!r}") from exc
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def request_origin(origin: str | None) -> str | None:
    """A request's `Origin` header normalized, or None when absent or unusable (`null`, garbage)."""
    if not origin:
        return None
    try:
        return normalize_origin(origin)
    except ValueError:
        return None


class KeyStore:
    """Create, verify, list and revoke keys in one SQLite file (safe across threads and processes)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        if not path.exists():
            path.touch(mode=0o600)
        self._pepper = _load_pepper(path.with_suffix(".pepper"))
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30, isolation_level=None)
        self.db = sqlite_utils.Database(conn)
        self.db.execute("PRAGMA journal_mode=WAL")
        self._lock = threading.RLock()
        with self._lock:
            self.db["keys"].create(
                {
                    "id": str,
                    "kind": str,
                    "name": str,
                    "origins": str,
                    "digest": str,
                    "created_at": float,
                    "revoked_at": float,
                },
                pk="id",
                if_not_exists=True,
            )
            self.db["keys"].create_index(["digest"], unique=True, if_not_exists=True)

    def _digest(self, key: str) -> str:
        return hmac.new(self._pepper, key.encode("utf-8"), hashlib.sha256).hexdigest()

    def fingerprint(self, text: str) -> str:
        """A stable keyed digest of `text` (an integrator's user id): linkable here, unreadable elsewhere."""
        return self._digest(f"fingerprint\x00{text}")[:32]

    def create(self, kind: str, origins: list[str] | None = None, name: str = "") -> str:
        """A new key of `kind`; returns the plaintext, which is not stored anywhere."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        clean = sorted({normalize_origin(o) for o in origins or []})
        if kind == "widget" and not clean:
            raise ValueError("a widget key needs at least one origin (e.g. https://shop.example.com)")
        if kind == "admin" and clean:
            raise ValueError("admin keys are not bound to origins")
        key = PREFIXES[kind] + secrets.token_urlsafe(24)
        row = {
            "id": secrets.token_hex(4),
            "kind": kind,
            "name": name.strip()[:200],
            "origins": json.dumps(clean),
            "digest": self._digest(key),
            "created_at": time.time(),
            "revoked_at": None,
        }
        with self._lock:
            self.db["keys"].insert(row)
        return key

    def verify(self, key: str | None) -> KeyInfo | None:
        """The key's info when it is a live key of this store, else None."""
        if not key or not key.startswith(tuple(PREFIXES.values())) or len(key) > 200:
            return None
        digest = self._digest(key)
        with self._lock:
            rows = list(self.db.query("select * from keys where digest = ? and revoked_at is null", [digest]))
        if not rows or not hmac.compare_digest(rows[0]["digest"], digest):
            return None
        return _info(rows[0])

    def live(self, key_id: str | None) -> KeyInfo | None:
        """The key with this id while it is not revoked, else None (sessions opened with a key check this)."""
        if not key_id:
            return None
        with self._lock:
            rows = list(self.db.query("select * from keys where id = ? and revoked_at is null", [key_id]))
        return _info(rows[0]) if rows else None

    def list(self) -> list[KeyInfo]:
        """Every key, revoked ones included, oldest first."""
        with self._lock:
            rows = list(self.db.query("select * from keys order by created_at"))
        return [_info(r) for r in rows]

    def revoke(self, key_id: str) -> bool:
        """Revoke a key by id; False when there is no such live key."""
        with self._lock:
            cur = self.db.execute(
                "update keys set revoked_at = ? where id = ? and revoked_at is null", [time.time(), key_id]
            )
            return cur.rowcount > 0

    def widget_origins(self) -> set[str]:
        """Every origin of a live widget key (what CORS lets in)."""
        with self._lock:
            rows = list(
                self.db.query("select origins from keys where kind = 'widget' and revoked_at is null")
            )
        return {o for r in rows for o in json.loads(r["origins"] or "[]")}

    def close(self) -> None:
        self.db.conn.close()


def _info(row: dict[str, Any]) -> KeyInfo:
    return KeyInfo(
        id=row["id"],
        kind=row["kind"],
        origins=json.loads(row["origins"] or "[]"),
        name=row["name"] or "",
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


def _load_pepper(path: Path) -> bytes:
    """The store's pepper: 32 random bytes, created once (atomically) with owner-only permissions."""
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_bytes(32))
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # fails if another process got there first; theirs wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    pepper = path.read_bytes()
    if len(pepper) < 32:
        raise RuntimeError(f"{path} is damaged; without it the stored keys cannot be verified")
    return pepper
