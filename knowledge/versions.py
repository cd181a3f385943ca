"""Published versions of the knowledge base and the audit log (SQLite tables next to the store's).

A version is a snapshot of the draft: its unit revisions (`version_units`), document rows
(`version_documents`) and twins' "needs update" marks (`version_twin_flags`, see knowledge/twins.py), with
who published it, when, the note and a summary of what it changed ("3 documents, 1 template changed"). `meta.live_version` names the version search serves; publishing and rolling back
each write their rows and flip that pointer in one transaction, so a crash leaves the last version live.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import sqlite_utils

from knowledge.twins import PUBLISHABLE_REVS, restore_flags, snapshot_flags
from knowledge.twins import create_tables as create_twin_tables

CHANGES = ("changed", "added", "removed")


class NothingToPublish(ValueError):
    """The draft is the same as the live version."""


class UnknownVersion(KeyError):
    """No published version has that number."""


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT on `db` (rolled back on any exception); nests by joining the outer one."""
    conn = db.conn
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


class VersionLog:
    """Tables versions, version_units, version_documents and audit; `meta.live_version` is the pointer."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def create(self) -> None:
        db = self.db
        names = set(db.table_names())
        if "versions" not in names:
            db["versions"].create(
                {
                    "version": int,
                    "created_at": float,
                    "actor": str,
                    "note": str,
                    "documents": int,
                    "chunks": int,
                    "templates": int,
                    "changes": str,
                },
                pk="version",
            )
        elif "changes" not in db["versions"].columns_dict:  # versions published before summaries existed
            try:
                db.execute("ALTER TABLE versions ADD COLUMN [changes] TEXT")
            except sqlite3.OperationalError as exc:  # another process added it first
                if "duplicate column" not in str(exc):
                    raise
        if "version_units" not in names:
            db["version_units"].create({"version": int, "rev": str}, pk=("version", "rev"))
            db["version_units"].create_index(["rev"])
        if "version_documents" not in names:
            db.execute("CREATE TABLE version_documents AS SELECT 0 AS version, * FROM documents WHERE 0")
            db.execute("CREATE UNIQUE INDEX idx_version_documents ON version_documents (version, id)")
        if "audit" not in names:
            db["audit"].create(
                {"id": int, "at": float, "actor": str, "action": str, "target": str, "detail": str}, pk="id"
            )
        create_twin_tables(db)
        self._summarize_old_versions()

    def _summarize_old_versions(self) -> None:
        """Give versions published before summaries existed one: what they changed against the version
        before them (the draft they were published from is gone)."""
        missing = [r[0] for r in self.db.execute("SELECT version FROM versions WHERE changes IS NULL")]
        if not missing:
            return
        with transaction(self.db):
            for v in missing:
                before = self.db.execute(
                    "SELECT max(version) FROM versions WHERE version < ?", [v]
                ).fetchone()
                old = _state(self.db, before[0]) if before[0] is not None else ({}, {})
                text = summarize(change_counts(old, _state(self.db, v)))
                self.db.execute("UPDATE versions SET changes = ? WHERE version = ?", [text, v])

    # -- reading ---------------------------------------------------------------------------------
    def live_version(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'live_version'").fetchone()
        return int(row[0]) if row else 0

    def versions(self) -> list[dict]:
        """Published versions, newest first: version, created_at and published_at (ISO 8601, UTC), actor (who
        published it), note, changes ("3 documents, 1 template changed"), summary (the note, else the
        changes), counts; `live` marks the one search serves."""
        live = self.live_version()
        rows = self.db.query("SELECT * FROM versions ORDER BY version DESC")
        return [_described(r, r["version"] == live) for r in rows]

    def audit(self, limit: int = 100) -> list[dict]:
        """The newest `limit` audit entries: id, at (unix time), actor, action, target, detail (a dict)."""
        rows = self.db.query("SELECT * FROM audit ORDER BY id DESC LIMIT ?", [max(1, int(limit))])
        return [{**r, "detail": json.loads(r["detail"] or "{}")} for r in rows]

    def changes(self) -> list[dict]:
        """Documents whose draft differs from the live version: {id, uri, title, kind, change}."""
        live = self.live_version()
        # What a publish would take: templates held for translation are not part of it (knowledge/twins.py).
        draft = _revs_by_doc(self.db.execute(f"SELECT doc_id, rev FROM ({PUBLISHABLE_REVS})"))
        pub = _revs_by_doc(
            self.db.execute(
                "SELECT u.doc_id, v.rev FROM version_units v JOIN units u ON u.id = v.rev "
                "WHERE v.version = ?",
                [live],
            )
        )
        docs = {d["id"]: d for d in self.db.query("SELECT id, uri, title, kind FROM documents")}
        old = {
            d["id"]: d
            for d in self.db.query(
                "SELECT id, uri, title, kind FROM version_documents WHERE version = ?", [live]
            )
        }
        out = []
        for doc_id in sorted(set(docs) | set(old)):
            if doc_id not in old:
                if docs[doc_id]["kind"] == "templates" and not draft.get(doc_id):
                    continue  # a new template file whose templates all wait for their translation
                change = "added"
            elif doc_id not in docs:
                change = "removed"
            elif (
                draft.get(doc_id, set()) != pub.get(doc_id, set())
                or docs[doc_id]["title"] != old[doc_id]["title"]
            ):
                change = "changed"
            else:
                continue
            out.append({**(docs.get(doc_id) or old[doc_id]), "change": change})
        return out

    # -- writing (inside the caller's transaction unless noted) ----------------------------------
    def record(self, actor: str, action: str, target: str, detail: dict | None = None) -> None:
        """Add an audit entry (in the current transaction if one is open)."""
        with transaction(self.db):
            self.db["audit"].insert(
                {
                    "at": time.time(),
                    "actor": actor or "unknown",
                    "action": action,
                    "target": target,
                    "detail": json.dumps(detail or {}, ensure_ascii=False),
                }
            )

    def snapshot(self, actor: str, note: str) -> dict:
        """Copy the draft into a new version and make it live (call inside a transaction)."""
        db = self.db
        version = (db.execute("SELECT max(version) FROM versions").fetchone()[0] or 0) + 1
        live = self.live_version()
        changes = summarize(change_counts(_state(db, live) if live else ({}, {}), _state(db, None)))
        db.execute(
            f"INSERT INTO version_units (version, rev) SELECT ?, rev FROM ({PUBLISHABLE_REVS})", [version]
        )
        db.execute("INSERT INTO version_documents SELECT ?, * FROM documents", [version])
        snapshot_flags(db, version)
        counts = db.execute(
            "SELECT sum(u.kind = 'document'), sum(u.kind = 'template'), count(DISTINCT CASE WHEN u.kind = 'document' "
            "THEN u.doc_id END) FROM units u JOIN version_units v ON v.rev = u.id AND v.version = ?",
            [version],
        ).fetchone()
        row = {
            "version": version,
            "created_at": time.time(),
            "actor": actor or "unknown",
            "note": note,
            "documents": counts[2] or 0,
            "chunks": counts[0] or 0,
            "templates": counts[1] or 0,
            "changes": changes,
        }
        db["versions"].insert(row)
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('live_version', ?)", [str(version)])
        return _described(row, True)

    def publish(self, actor: str, note: str = "") -> dict:
        """Snapshot the draft as version N+1 and make it live, in one transaction; audited."""
        with transaction(self.db):
            changes = self.changes()
            if not changes and self.live_version():
                raise NothingToPublish("the draft has no changes to publish")
            row = self.snapshot(actor, note)
            self.record(actor, "publish", f"v{row['version']}", {"note": note, "changes": len(changes)})
        return row

    def rollback(self, version: int, actor: str) -> dict:
        """Make `version` live again and reset the draft to it (unpublished changes are dropped); audited."""
        with transaction(self.db):
            rows = list(self.db.query("SELECT * FROM versions WHERE version = ?", [int(version)]))
            if not rows:
                raise UnknownVersion(f"no published version {version}")
            before = self.live_version()
            db = self.db
            db.execute("DELETE FROM draft_units")
            db.execute(
                "INSERT INTO draft_units (rev, doc_id) SELECT v.rev, u.doc_id FROM version_units v "
                "JOIN units u ON u.id = v.rev WHERE v.version = ?",
                [int(version)],
            )
            db.execute("DELETE FROM documents")
            cols = ", ".join(f"[{c}]" for c in db["documents"].columns_dict)
            db.execute(
                f"INSERT INTO documents ({cols}) SELECT {cols} FROM version_documents WHERE version = ?",
                [int(version)],
            )
            restore_flags(db, int(version))
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('live_version', ?)", [str(int(version))]
            )
            self.record(actor, "rollback", f"v{version}", {"from": before})
        return _described(rows[0], True)


def _revs_by_doc(rows) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for doc_id, rev in rows:
        out.setdefault(doc_id, set()).add(rev)
    return out


def _described(row: dict, live: bool) -> dict:
    """A versions row as the surfaces show it (see `VersionLog.versions`)."""
    at = row.get("created_at")
    published = dt.datetime.fromtimestamp(at, dt.UTC).isoformat(timespec="seconds") if at else None
    changes = row.get("changes") or ""
    return {
        **row,
        "published_at": published,
        "changes": changes,
        "summary": (row.get("note") or "").strip() or changes,
        "live": live,
    }


def _state(db: sqlite_utils.Database, version: int | None) -> tuple[dict, dict]:
    """The documents ({id: (title, revisions)}) and templates ({uid: (intent, language, title, answer)}) of
    `version` (None: the draft, as a publish would take it); template files count by their templates, not as documents (a template moved
    to another file is no change)."""
    if version is None:
        units = db.execute(
            "SELECT d.doc_id, u.id, u.uid, u.kind, u.intent, u.language, u.title, u.text "
            f"FROM ({PUBLISHABLE_REVS}) d JOIN units u ON u.id = d.rev"
        )
        docs = db.execute("SELECT id, title, kind FROM documents")
    else:
        units = db.execute(
            "SELECT u.doc_id, u.id, u.uid, u.kind, u.intent, u.language, u.title, u.text FROM version_units v "
            "JOIN units u ON u.id = v.rev "
            "WHERE v.version = ?",
            [version],
        )
        docs = db.execute("SELECT id, title, kind FROM version_documents WHERE version = ?", [version])
    revs: dict[str, set[str]] = {}
    templates: dict[str, tuple] = {}
    for doc_id, rev, uid, kind, *content in units.fetchall():
        if kind == "template":
            templates[uid] = tuple(content)
        else:
            revs.setdefault(doc_id, set()).add(rev)
    documents = {
        i: (title, frozenset(revs.get(i, ()))) for i, title, kind in docs.fetchall() if kind == "document"
    }
    return documents, templates


def change_counts(old: tuple[dict, dict], new: tuple[dict, dict]) -> dict[str, dict[str, int]]:
    """How many documents and templates `new` changed, added and removed against `old` (see `_state`)."""
    out = {}
    for name, a, b in (("document", old[0], new[0]), ("template", old[1], new[1])):
        out[name] = {
            "changed": sum(1 for k in a.keys() & b.keys() if a[k] != b[k]),
            "added": len(b.keys() - a.keys()),
            "removed": len(a.keys() - b.keys()),
        }
    return out


def summarize(counts: dict[str, dict[str, int]]) -> str:
    """ "3 documents, 1 template changed; 2 documents added" (or "no content changes")."""
    parts = []
    for change in CHANGES:
        items = [
            f"{n} {name}{'' if n == 1 else 's'}"
            for name in ("document", "template")
            if (n := counts[name][change])
        ]
        if items:
            parts.append(f"{', '.join(items)} {change}")
    return "; ".join(parts) or "no content changes"
