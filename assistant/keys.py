"""API keys: admin keys for `/v1/admin/`, widget keys bound to the origins of the sites that embed the chat.

Keys are stored only as HMAC-SHA256 digests under a pepper kept apart from them; the plaintext is shown once,
when the key is created. On SQLite (the default) they live in HOME/keys.db and the pepper in HOME/keys.pepper
(mode 0600). On PostgreSQL (`database_url`) every replica shares the `keys` table, so the pepper must be the
same everywhere: a secret (LEPTON_KEY_PEPPER or `key_pepper_file`), and without one the store refuses to open.
Nothing about keys is cached in the process: a key created or revoked anywhere counts on the next request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from sqlalchemy import Column, Float, Index, MetaData, Table, Text, bindparam, insert, select, update

from knowledge.database import close_engine, open_store

if TYPE_CHECKING:
    from assistant.config import Settings

# The store's tables as the code reads and writes them; knowledge/database/revisions/keys/ makes them.
metadata = MetaData()
KEYS = Table(
    "keys",
    metadata,
    Column("id", Text, primary_key=True),
    Column("kind", Text),
    Column("name", Text),
    Column("origins", Text),  # a JSON list of normalized origins
    Column("digest", Text),  # HMAC-SHA256 of the key under the pepper
    Column("created_at", Float),
    Column("revoked_at", Float),
    Index("idx_keys_digest", "digest", unique=True),
)
# Built once: the lookups run on every request, and building a statement costs as much as running it.
LIVE_BY_DIGEST = select(KEYS).where(KEYS.c.digest == bindparam("digest"), KEYS.c.revoked_at.is_(None))
LIVE_BY_ID = select(KEYS).where(KEYS.c.id == bindparam("id"), KEYS.c.revoked_at.is_(None))
LIVE_WIDGET_ORIGINS = select(KEYS.c.origins).where(KEYS.c.kind == "widget", KEYS.c.revoked_at.is_(None))
MIN_PEPPER_BYTES = 32
NEEDS_PEPPER = (
    "API keys on PostgreSQL need a pepper that every replica shares: set LEPTON_KEY_PEPPER to 32 or more "
    "random characters (python -c 'import secrets; print(secrets.token_urlsafe(32))'), or key_pepper_file in "
    "lepton.toml to a file of 32+ random bytes that every replica reads (a copy of an old home's keys.pepper "
    "keeps that home's keys valid)"
)


class KeyPepperError(RuntimeError):
    """The keys' pepper is missing, unreadable or too short: the store cannot verify any key."""


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
    """Create, verify, list and revoke keys (safe across threads, processes and replicas)."""

    def __init__(self, path: Path, *, database_url: Any = None, pepper: bytes | None = None) -> None:
        """Keys in the SQLite file `path` (pepper beside it, made on first use), or in PostgreSQL at
        `database_url` with the shared `pepper` (required there: KeyPepperError without it)."""
        if database_url and pepper is None:
            raise KeyPepperError(NEEDS_PEPPER)
        self.path = path
        self._pepper = pepper if pepper is not None else _load_pepper(path.with_suffix(".pepper"))
        self.engine = open_store(database_url, path, "keys")

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyStore:
        """The configured store: HOME/keys.db, or the keys table of `database_url` with the shared pepper."""
        if settings.database_url is None:
            return cls(settings.home / "keys.db")
        return cls(
            settings.home / "keys.db", database_url=settings.database_url, pepper=shared_pepper(settings)
        )

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
        with self.engine.begin() as conn:
            conn.execute(insert(KEYS).values(row))
        return key

    def verify(self, key: str | None) -> KeyInfo | None:
        """The key's info when it is a live key of this store, else None."""
        if not key or not key.startswith(tuple(PREFIXES.values())) or len(key) > 200:
            return None
        digest = self._digest(key)
        row = self._one(LIVE_BY_DIGEST, digest=digest)
        if row is None or not hmac.compare_digest(row["digest"], digest):
            return None
        return _info(row)

    def live(self, key_id: str | None) -> KeyInfo | None:
        """The key with this id while it is not revoked, else None (sessions opened with a key check this)."""
        if not key_id:
            return None
        row = self._one(LIVE_BY_ID, id=key_id)
        return _info(row) if row is not None else None

    def list(self) -> list[KeyInfo]:
        """Every key, revoked ones included, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(KEYS).order_by(KEYS.c.created_at)).mappings().all()
        return [_info(r) for r in rows]

    def revoke(self, key_id: str) -> bool:
        """Revoke a key by id; False when there is no such live key."""
        statement = (
            update(KEYS)
            .where(KEYS.c.id == key_id, KEYS.c.revoked_at.is_(None))
            .values(revoked_at=time.time())
        )
        with self.engine.begin() as conn:
            return conn.execute(statement).rowcount > 0

    def widget_origins(self) -> set[str]:
        """Every origin of a live widget key (what CORS lets in)."""
        with self.engine.connect() as conn:
            rows = conn.execute(LIVE_WIDGET_ORIGINS).scalars().all()
        return {o for origins in rows for o in json.loads(origins or "[]")}

    def close(self) -> None:
        close_engine(self.engine)

    def _one(self, query: Any, **params: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(query, params).mappings().first()


def _info(row: Any) -> KeyInfo:
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
    path.parent.mkdir(parents=True, exist_ok=True)
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


def shared_pepper(settings: Settings) -> bytes:
    """The pepper every replica on PostgreSQL shares: `key_pepper` (LEPTON_KEY_PEPPER, its UTF-8 bytes) or the
    bytes of `key_pepper_file`; KeyPepperError when neither, both, or too short."""
    if settings.key_pepper is not None and settings.key_pepper_file is not None:
        raise KeyPepperError("set one of LEPTON_KEY_PEPPER and key_pepper_file, not both")
    if settings.key_pepper is not None:
        pepper = settings.key_pepper.get_secret_value().encode("utf-8")
        if len(pepper) < MIN_PEPPER_BYTES:
            raise KeyPepperError(
                f"LEPTON_KEY_PEPPER is too short: use {MIN_PEPPER_BYTES} or more random characters"
            )
        return pepper
    if settings.key_pepper_file is None:
        raise KeyPepperError(NEEDS_PEPPER)
    try:
        pepper = Path(settings.key_pepper_file).read_bytes()
    except OSError as exc:
        raise KeyPepperError(
            f"cannot read key_pepper_file {settings.key_pepper_file}: {exc.strerror}"
        ) from exc
    if len(pepper) < MIN_PEPPER_BYTES:
        raise KeyPepperError(
            f"key_pepper_file {settings.key_pepper_file} holds under {MIN_PEPPER_BYTES} bytes"
        )
    return pepper
