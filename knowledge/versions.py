"""Published versions of the knowledge base and the audit log (tables next to the store's).

A version is a snapshot of the draft: its unit revisions (`version_units`), document rows
(`version_documents`) and twins' "needs update" marks (`version_twin_flags`, see knowledge/twins.py), with
who published it, when, the note and a summary of what it changed ("3 documents, 1 template changed"). `meta.live_version` names the version search serves; publishing and rolling back
each write their rows and flip that pointer in one transaction, so a crash leaves the last version live.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from sqlalchemy import insert, select, text

from knowledge.kb_database import KbDatabase, upsert
from knowledge.kb_tables import AUDIT, DOCUMENT_COLUMNS, META, VERSIONS
from knowledge.twins import PUBLISHABLE_REVS, restore_flags, snapshot_flags

CHANGES = ("changed", "added", "removed")
_DOC_COLS = ", ".join(name for name, _ in DOCUMENT_COLUMNS)
# Live documents, chunks and templates of version :v.
_COUNTS = (
    "SELECT sum(CASE WHEN u.kind = 'document' THEN 1 ELSE 0 END), "
    "sum(CASE WHEN u.kind = 'template' THEN 1 ELSE 0 END), "
    "count(DISTINCT CASE WHEN u.kind = 'document' THEN u.doc_id END) "
    "FROM units u JOIN version_units v ON v.rev = u.id AND v.version = :v"
)


class NothingToPublish(ValueError):
    """The draft is the same as the live version."""


class UnknownVersion(KeyError):
    """No published version has that number."""


class VersionLog:
    """Tables versions, version_units, version_documents and audit; `meta.live_version` is the pointer."""

    def __init__(self, db: KbDatabase) -> None:
        self.db = db

    def summarize_old_versions(self) -> None:
        """Give versions published before summaries existed one: what they changed against the version
        before them (the draft they were published from is gone)."""
        missing = [r[0] for r in self.db.tuples("SELECT version FROM versions WHERE changes IS NULL")]
        if not missing:
            return
        with self.db.transaction() as conn:
            for v in missing:
                before = self.db.scalar("SELECT max(version) FROM versions WHERE version < :v", {"v": v})
                old = _state(self.db, before) if before is not None else ({}, {})
                text = summarize(change_counts(old, _state(self.db, v)))
                conn.execute(VERSIONS.update().where(VERSIONS.c.version == v).values(changes=text))

    # -- reading ---------------------------------------------------------------------------------
    def live_version(self) -> int:
        value = self.db.scalar(_LIVE)
        return int(value) if value is not None else 0

    def counts(self, version: int) -> dict:
        """Version `version`'s documents, chunks and templates."""
        row = self.db.tuples(_COUNTS, {"v": version})[0]
        return {"documents": row[2] or 0, "chunks": row[0] or 0, "templates": row[1] or 0}

    def versions(self) -> list[dict]:
        """Published versions, newest first: version, created_at and published_at (ISO 8601, UTC), actor (who
        published it), note, changes ("3 documents, 1 template changed"), summary (the note, else the
        changes), counts; `live` marks the one search serves."""
        live = self.live_version()
        rows = self.db.rows(select(VERSIONS).order_by(VERSIONS.c.version.desc()))
        return [_described(r, r["version"] == live) for r in rows]

    def audit(self, limit: int = 100) -> list[dict]:
        """The newest `limit` audit entries: id, at (unix time), actor, action, target, detail (a dict)."""
        rows = self.db.rows(select(AUDIT).order_by(AUDIT.c.id.desc()).limit(max(1, int(limit))))
        return [{**r, "detail": json.loads(r["detail"] or "{}")} for r in rows]

    def changes(self) -> list[dict]:
        """Documents whose draft differs from the live version: {id, uri, title, kind, change}."""
        live = self.live_version()
        # What a publish would take: templates held for translation are not part of it (knowledge/twins.py).
        draft = _revs_by_doc(self.db.tuples(f"SELECT doc_id, rev FROM ({PUBLISHABLE_REVS}) AS p"))
        pub = _revs_by_doc(
            self.db.tuples(
                "SELECT u.doc_id, v.rev FROM version_units v JOIN units u ON u.id = v.rev "
                "WHERE v.version = :v",
                {"v": live},
            )
        )
        docs = {d["id"]: d for d in self.db.rows("SELECT id, uri, title, kind FROM documents")}
        old = {
            d["id"]: d
            for d in self.db.rows(
                "SELECT id, uri, title, kind FROM version_documents WHERE version = :v", {"v": live}
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
        with self.db.transaction() as conn:
            conn.execute(
                insert(AUDIT).values(
                    at=time.time(),
                    actor=actor or "unknown",
                    action=action,
                    target=target,
                    detail=json.dumps(detail or {}, ensure_ascii=False),
                )
            )

    def snapshot(self, actor: str, note: str) -> dict:
        """Copy the draft into a new version and make it live (call inside a transaction)."""
        db = self.db
        with db.transaction() as conn:
            version = (db.scalar("SELECT max(version) FROM versions") or 0) + 1
            live = self.live_version()
            changes = summarize(change_counts(_state(db, live) if live else ({}, {}), _state(db, None)))
            conn.execute(
                text(
                    "INSERT INTO version_units (version, rev) SELECT CAST(:v AS INTEGER), rev "
                    f"FROM ({PUBLISHABLE_REVS}) AS p"
                ),
                {"v": version},
            )
            conn.execute(
                text(
                    f"INSERT INTO version_documents (version, {_DOC_COLS}) "
                    f"SELECT CAST(:v AS INTEGER), {_DOC_COLS} FROM documents"
                ),
                {"v": version},
            )
            snapshot_flags(conn, version)
            counts = self.counts(version)
            row = {
                "version": version,
                "created_at": time.time(),
                "actor": actor or "unknown",
                "note": note,
                **counts,
                "changes": changes,
            }
            conn.execute(insert(VERSIONS).values(row))
            set_live(conn, version)
        return _described(row, True)

    def publish(self, actor: str, note: str = "") -> dict:
        """Snapshot the draft as version N+1 and make it live, in one transaction; audited."""
        with self.db.transaction():
            changes = self.changes()
            if not changes and self.live_version():
                raise NothingToPublish("the draft has no changes to publish")
            row = self.snapshot(actor, note)
            self.record(actor, "publish", f"v{row['version']}", {"note": note, "changes": len(changes)})
        return row

    def rollback(self, version: int, actor: str) -> dict:
        """Make `version` live again and reset the draft to it (unpublished changes are dropped); audited."""
        version = int(version)
        with self.db.transaction() as conn:
            rows = self.db.rows(select(VERSIONS).where(VERSIONS.c.version == version))
            if not rows:
                raise UnknownVersion(f"no published version {version}")
            before = self.live_version()
            conn.execute(text("DELETE FROM draft_units"))
            conn.execute(
                text(
                    "INSERT INTO draft_units (rev, doc_id) SELECT v.rev, u.doc_id FROM version_units v "
                    "JOIN units u ON u.id = v.rev WHERE v.version = :v"
                ),
                {"v": version},
            )
            conn.execute(text("DELETE FROM documents"))
            conn.execute(
                text(
                    f"INSERT INTO documents ({_DOC_COLS}) SELECT {_DOC_COLS} FROM version_documents "
                    "WHERE version = :v"
                ),
                {"v": version},
            )
            restore_flags(conn, version)
            set_live(conn, version)
            self.record(actor, "rollback", f"v{version}", {"from": before})
        return _described(rows[0], True)


def set_live(conn: Any, version: int) -> None:
    """Point `meta.live_version` at `version` (in the caller's transaction)."""
    upsert(conn, META, [{"key": "live_version", "value": str(int(version))}])


_LIVE = select(META.c.value).where(META.c.key == "live_version")


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


def _state(db: KbDatabase, version: int | None) -> tuple[dict, dict]:
    """The documents ({id: (title, revisions)}) and templates ({uid: (intent, language, title, answer)}) of
    `version` (None: the draft, as a publish would take it); template files count by their templates, not as documents (a template moved
    to another file is no change)."""
    if version is None:
        units = db.tuples(
            "SELECT d.doc_id, u.id, u.uid, u.kind, u.intent, u.language, u.title, u.text "
            f"FROM ({PUBLISHABLE_REVS}) d JOIN units u ON u.id = d.rev"
        )
        docs = db.tuples("SELECT id, title, kind FROM documents")
    else:
        units = db.tuples(
            "SELECT u.doc_id, u.id, u.uid, u.kind, u.intent, u.language, u.title, u.text FROM version_units v "
            "JOIN units u ON u.id = v.rev WHERE v.version = :v",
            {"v": version},
        )
        docs = db.tuples("SELECT id, title, kind FROM version_documents WHERE version = :v", {"v": version})
    revs: dict[str, set[str]] = {}
    templates: dict[str, tuple] = {}
    for doc_id, rev, uid, kind, *content in units:
        if kind == "template":
            templates[uid] = tuple(content)
        else:
            revs.setdefault(doc_id, set()).add(rev)
    documents = {i: (title, frozenset(revs.get(i, ()))) for i, title, kind in docs if kind == "document"}
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
