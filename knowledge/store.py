"""SQLite source of truth (sqlite-utils): documents, retrieval units, the FTS5 index, draft and versions.

Units are immutable revisions: a unit's row id (`id`, also its Chroma id) is `uid@hash` of its content, and
`uid` is the stable id search results carry (`<doc>-0003`, `tpl:<template id>`). The draft is the set of
revisions in `draft_units` (plus the `documents` rows); a published version is the set in `version_units`
(plus its `version_documents` snapshot); search reads only the live version's revisions.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import AbstractContextManager
from pathlib import Path

import sqlite_utils

from knowledge.lexical import FTS_TOKENIZER, index_text, match_expression
from knowledge.types import Template
from knowledge.versions import VersionLog, transaction

SCHEMA_VERSION = 2
UNIT_FIELDS = (
    "uid",
    "doc_id",
    "kind",
    "ord",
    "title",
    "heading",
    "text",
    "language",
    "tags",
    "intent",
    "uri",
    "ref",
    # Added in schema 2 without a migration of their own (columns are added on open): a document unit's
    # public path (relative to its ingest folder) and public URL. Revision ids count them only when set,
    # so units stored before they existed keep their ids.
    "path",
    "url",
)
_LATER_FIELDS = ("path", "url")
DOC_COLUMNS = {
    "id": str,
    "uri": str,
    "kind": str,
    "title": str,
    "language": str,
    "tags": str,
    "hash": str,
    "size": int,
    "chunks": int,
    "ingested_at": float,
    "body": str,
    "updated_at": float,
    "updated_by": str,
}


def unit_rev(unit: dict) -> str:
    """The revision id of a unit: its `uid` plus a hash of everything stored about it."""
    fields = [f for f in UNIT_FIELDS if f not in _LATER_FIELDS or unit.get(f)]
    payload = json.dumps([unit.get(f) for f in fields], ensure_ascii=False, default=str)
    return f"{unit['uid']}@{hashlib.sha256(payload.encode()).hexdigest()[:12]}"


class Store:
    """Tables: documents (the draft's), units (all revisions), units_fts, draft_units, plus `VersionLog`'s."""

    def __init__(self, path: Path) -> None:
        # One connection shared by the server's threads; callers serialize access (KnowledgeBase.lock).
        self.db = sqlite_utils.Database(sqlite3.connect(str(path), check_same_thread=False, timeout=30))
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA busy_timeout=30000")
        self.log = VersionLog(self.db)
        self._create()

    def transaction(self) -> AbstractContextManager[None]:
        """One write transaction (BEGIN IMMEDIATE): all of it lands, or none of it."""
        return transaction(self.db)

    def _create(self) -> None:
        db = self.db
        names = set(db.table_names())
        if "meta" not in names:
            db["meta"].create({"key": str, "value": str}, pk="key")
            db["meta"].insert_all(
                [{"key": "schema", "value": str(SCHEMA_VERSION)}, {"key": "live_version", "value": "0"}]
            )
        elif db["meta"].get("schema")["value"] == "1":
            self._migrate_from_v1()
            return
        self._create_tables()
        self.log.create()

    def _create_tables(self) -> None:
        db = self.db
        if "documents" not in db.table_names():
            db["documents"].create(DOC_COLUMNS, pk="id")
            db["documents"].create_index(["uri"], unique=True)
        if "units" not in db.table_names():
            db["units"].create({"id": str, **{f: (int if f == "ord" else str) for f in UNIT_FIELDS}}, pk="id")
            db["units"].create_index(["doc_id"])
            db["units"].create_index(["uid"])
        else:  # a knowledge base stored before the public path and URL existed
            have = set(db["units"].columns_dict)
            for name in _LATER_FIELDS:
                if name not in have:
                    try:
                        db.execute(f"ALTER TABLE units ADD COLUMN [{name}] TEXT")
                    except sqlite3.OperationalError as exc:  # another process added it first
                        if "duplicate column" not in str(exc):
                            raise
        if "draft_units" not in db.table_names():
            db["draft_units"].create({"rev": str, "doc_id": str}, pk="rev")
            db["draft_units"].create_index(["doc_id"])
        if "units_fts" not in db.table_names():
            db.execute(
                "CREATE VIRTUAL TABLE units_fts USING fts5("
                f"unit_id UNINDEXED, title, heading, body, tokenize='{FTS_TOKENIZER}')"
            )

    def _migrate_from_v1(self) -> None:
        """Schema 1 (units keyed by uid, a templates table, no versions) becomes version 1 of schema 2."""
        db = self.db
        with self.transaction():
            old_units = list(db.query("SELECT * FROM units"))
            docs = list(db.query("SELECT * FROM documents"))
            for table in ("units", "templates", "units_fts", "documents"):
                db.execute(f"DROP TABLE IF EXISTS [{table}]")
            self._create_tables()
            self.log.create()
            db["documents"].insert_all({**{k: None for k in DOC_COLUMNS}, **d} for d in docs)
            revs = self._insert_revisions(
                [{**{k: v for k, v in u.items() if k != "id"}, "uid": u["id"]} for u in old_units]
            )
            db["draft_units"].insert_all(
                ({"rev": r, "doc_id": u["doc_id"]} for r, u in zip(revs, old_units, strict=True)),
                replace=True,
            )
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)", [str(SCHEMA_VERSION)])
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('live_version', '0')")
            db.execute("DELETE FROM meta WHERE key = 'version'")
            if old_units:
                self.log.snapshot("migration", "migrated from schema 1")

    # -- draft writes ----------------------------------------------------------------------------
    def _insert_revisions(self, units: list[dict]) -> list[str]:
        """Store unit revisions not stored yet (with their FTS rows); returns every unit's revision id."""
        revs = [unit_rev(u) for u in units]
        have = self.existing_revs(revs)
        new = [
            {"id": r, **{f: u.get(f) for f in UNIT_FIELDS}}
            for r, u in zip(revs, units, strict=True)
            if r not in have
        ]
        new = list({u["id"]: u for u in new}.values())
        if new:
            self.db["units"].insert_all(new)
            self.db["units_fts"].insert_all(
                {
                    "unit_id": u["id"],
                    "title": index_text(u["title"] or ""),
                    "heading": index_text(u["heading"] or ""),
                    "body": index_text(u["text"] or ""),
                }
                for u in new
            )
        return revs

    def existing_revs(self, revs: list[str]) -> set[str]:
        out: set[str] = set()
        for i in range(0, len(revs), 500):
            part = revs[i : i + 500]
            marks = ",".join("?" * len(part))
            out.update(r[0] for r in self.db.execute(f"SELECT id FROM units WHERE id IN ({marks})", part))
        return out

    def stage_document(
        self, doc: dict, units: list[dict], actor: str, action: str, detail: dict | None = None
    ) -> None:
        """Atomically make `doc` with `units` (dicts with UNIT_FIELDS) the draft's version of that document."""
        with self.transaction():
            revs = self._insert_revisions(units)
            self.db.execute("DELETE FROM draft_units WHERE doc_id = ?", [doc["id"]])
            uids = sorted({u["uid"] for u in units if u["kind"] == "template"})
            for i in range(0, len(uids), 500):  # a template id lives in one document: the latest wins
                part = uids[i : i + 500]
                self.db.execute(
                    f"DELETE FROM draft_units WHERE rev IN (SELECT id FROM units WHERE uid IN ({','.join('?' * len(part))}))",
                    part,
                )
            self.db["draft_units"].insert_all(
                ({"rev": r, "doc_id": doc["id"]} for r in dict.fromkeys(revs)), replace=True
            )
            row = {**{k: None for k in DOC_COLUMNS}, **(self.document(doc["id"]) or {}), **doc}
            self.db["documents"].insert(row, replace=True)
            self.log.record(actor, action, doc["uri"], detail or {})

    def unstage_document(self, doc_id: str, actor: str, action: str = "delete") -> None:
        """Remove a document from the draft."""
        with self.transaction():
            doc = self.document(doc_id)
            self.db.execute("DELETE FROM draft_units WHERE doc_id = ?", [doc_id])
            self.db.execute("DELETE FROM documents WHERE id = ?", [doc_id])
            self.log.record(actor, action, doc["uri"] if doc else doc_id, {"document": doc_id})

    def collect_garbage(self) -> list[str]:
        """Delete revisions neither the draft nor any version holds; returns their ids (for the vectors)."""
        with self.transaction():
            dead = [
                r[0]
                for r in self.db.execute(
                    "SELECT id FROM units WHERE id NOT IN (SELECT rev FROM draft_units) "
                    "AND id NOT IN (SELECT rev FROM version_units)"
                )
            ]
            for i in range(0, len(dead), 500):
                part = dead[i : i + 500]
                marks = ",".join("?" * len(part))
                self.db.execute(f"DELETE FROM units_fts WHERE unit_id IN ({marks})", part)
                self.db.execute(f"DELETE FROM units WHERE id IN ({marks})", part)
        return dead

    # -- draft reads -----------------------------------------------------------------------------
    def document(self, doc_id: str) -> dict | None:
        rows = list(self.db["documents"].rows_where("id = ?", [doc_id]))
        return rows[0] if rows else None

    def document_by_uri(self, uri: str) -> dict | None:
        rows = list(self.db["documents"].rows_where("uri = ?", [uri]))
        return rows[0] if rows else None

    def documents(self) -> list[dict]:
        """The draft's documents (after a publish, the same as the live version's)."""
        return list(self.db["documents"].rows_where(order_by="uri"))

    def draft_units(self, doc_id: str) -> list[dict]:
        rows = self.db.query(
            "SELECT u.* FROM draft_units d JOIN units u ON u.id = d.rev WHERE d.doc_id = ? ORDER BY u.ord, u.uid",
            [doc_id],
        )
        return [_decode(r) for r in rows]

    def document_public(self, doc_id: str) -> tuple[str | None, str | None]:
        """A draft document's public path and URL (from its units; None, None if it has none)."""
        row = self.db.execute(
            "SELECT u.path, u.url FROM draft_units d JOIN units u ON u.id = d.rev WHERE d.doc_id = ? "
            "AND u.kind = 'document' LIMIT 1",
            [doc_id],
        ).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def draft_revs(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT rev FROM draft_units")}

    def all_revs(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT id FROM units")}

    def find_template_doc(self, template_id: str) -> str | None:
        row = self.db.execute(
            "SELECT d.doc_id FROM draft_units d JOIN units u ON u.id = d.rev WHERE u.uid = ?",
            [f"tpl:{template_id}"],
        ).fetchone()
        return row[0] if row else None

    # -- live reads (search) ---------------------------------------------------------------------
    def live_version(self) -> int:
        return self.log.live_version()

    def live_revs(self) -> set[str]:
        return {
            r[0]
            for r in self.db.execute("SELECT rev FROM version_units WHERE version = ?", [self.live_version()])
        }

    def units(self, ids: list[str] | None = None, *, live: bool = False) -> dict[str, dict]:
        """Unit revisions by id (all, or those in `ids`); `live` keeps only the live version's."""
        sql, args = "SELECT u.* FROM units u", []
        if live:
            sql += " JOIN version_units v ON v.rev = u.id AND v.version = ?"
            args.append(self.live_version())
        if ids is None:
            rows = list(self.db.query(sql, args))
        else:
            rows = []
            ids = list(ids)
            for i in range(0, len(ids), 500):
                part = ids[i : i + 500]
                rows += self.db.query(f"{sql} WHERE u.id IN ({','.join('?' * len(part))})", args + part)
        return {r["id"]: _decode(r) for r in rows}

    def lexical(
        self, query: str, n: int, language: str | None = None, kinds: set[str] | None = None
    ) -> dict[str, float]:
        """BM25 matches among the live units as {unit id: positive bm25 score} (higher is better)."""
        expr = match_expression(query)
        if expr is None:
            return {}
        sql = (
            "SELECT f.unit_id AS id, -bm25(units_fts, 2.0, 1.5, 1.0) AS s FROM units_fts f "
            "JOIN version_units v ON v.rev = f.unit_id AND v.version = ? "
            "JOIN units u ON u.id = f.unit_id WHERE units_fts MATCH ?"
        )
        args: list = [self.live_version(), expr]
        if language:
            sql += " AND u.language = ?"
            args.append(language)
        if kinds:
            sql += f" AND u.kind IN ({','.join('?' * len(kinds))})"
            args.extend(sorted(kinds))
        sql += " ORDER BY s DESC LIMIT ?"
        args.append(n)
        return {r["id"]: float(r["s"]) for r in self.db.query(sql, args)}

    def templates(
        self, intent: str | None = None, language: str | None = None, *, draft: bool = False
    ) -> list[Template]:
        """Live templates (or the draft's), by template id."""
        if draft:
            sql, args = (
                "SELECT u.* FROM units u JOIN draft_units d ON d.rev = u.id WHERE u.kind = 'template'",
                [],
            )
        else:
            sql = (
                "SELECT u.* FROM units u JOIN version_units v ON v.rev = u.id AND v.version = ? "
                "WHERE u.kind = 'template'"
            )
            args = [self.live_version()]
        if intent:
            sql += " AND u.intent = ?"
            args.append(intent)
        if language:
            sql += " AND u.language = ?"
            args.append(language)
        rows = self.db.query(sql + " ORDER BY u.ref", args)
        return [Template(r["ref"], r["intent"], r["language"], r["title"], r["text"]) for r in rows]

    def slot_declarations(self, draft: bool = False, exclude_doc: str | None = None) -> dict[str, str]:
        """Stored slot declarations (JSON) by name: the live version's, or the draft's."""
        if draft:
            sql, args = "SELECT u.* FROM units u JOIN draft_units d ON d.rev = u.id WHERE u.kind = 'slot'", []
        else:
            sql = (
                "SELECT u.* FROM units u JOIN version_units v ON v.rev = u.id AND v.version = ? "
                "WHERE u.kind = 'slot'"
            )
            args = [self.live_version()]
        rows = self.db.query(sql + " ORDER BY u.uid", args)
        return {r["ref"]: r["text"] for r in rows if r["doc_id"] != exclude_doc}

    def template(self, template_id: str) -> Template | None:
        rows = list(
            self.db.query(
                "SELECT u.* FROM units u JOIN version_units v ON v.rev = u.id AND v.version = ? WHERE u.uid = ?",
                [self.live_version(), f"tpl:{template_id}"],
            )
        )
        if not rows:
            return None
        r = rows[0]
        return Template(r["ref"], r["intent"], r["language"], r["title"], r["text"])

    def counts(self) -> dict:
        """Live documents, chunks and templates."""
        row = self.db.execute(
            "SELECT sum(u.kind = 'document'), sum(u.kind = 'template'), count(DISTINCT CASE WHEN u.kind = 'document' "
            "THEN u.doc_id END) FROM units u JOIN version_units v ON v.rev = u.id AND v.version = ?",
            [self.live_version()],
        ).fetchone()
        return {"documents": row[2] or 0, "chunks": row[0] or 0, "templates": row[1] or 0}

    def version(self) -> int:
        """The live version number (0 before the first publish)."""
        return self.live_version()


def _decode(row: dict) -> dict:
    row["tags"] = json.loads(row["tags"] or "[]")
    return row
