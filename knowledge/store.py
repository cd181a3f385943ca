"""The knowledge base's source of truth: documents, retrieval units, the lexical index, draft and versions, in
kb.db (SQLite) or the shared PostgreSQL database (`database_url`), through knowledge/database.

Units are immutable revisions: a unit's row id (`id`, also its Chroma id) is `uid@hash` of its content, and
`uid` is the stable id search results carry (`<doc>-0003`, `tpl:<template id>`). The draft is the set of
revisions in `draft_units` (plus the `documents` rows); a published version is the set in `version_units`
(plus its `version_documents` snapshot); search reads only the live version's revisions. The lexical index is
FTS5's `units_fts` on SQLite and knowledge/lexical_postgres.py's tables on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, text

from knowledge.database import open_store
from knowledge.kb_database import KbDatabase, upsert
from knowledge.kb_tables import DOCUMENT_COLUMNS, DOCUMENTS, DRAFT_UNITS, UNITS
from knowledge.lexical import FTS5_RANK, index_text, match_expression
from knowledge.types import Template
from knowledge.versions import VersionLog

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
DOC_COLUMNS = {name: None for name, _ in DOCUMENT_COLUMNS}
_CHUNK = 500  # ids per IN (...) list
# On a server database every read is a network round trip, and a turn reads the live pointer half a dozen
# times: there it is read again at most this often (at once after a write through this process), so another
# replica's publish or rollback is served here within this many seconds. SQLite reads it every time.
LIVE_CHECK_S = 1.0


def unit_rev(unit: dict) -> str:
    """The revision id of a unit: its `uid` plus a hash of everything stored about it."""
    fields = [f for f in UNIT_FIELDS if f not in _LATER_FIELDS or unit.get(f)]
    payload = json.dumps([unit.get(f) for f in fields], ensure_ascii=False, default=str)
    return f"{unit['uid']}@{hashlib.sha256(payload.encode()).hexdigest()[:12]}"


class Store:
    """Tables (knowledge/kb_tables.py): documents (the draft's), units (all revisions), draft_units, meta, the
    lexical index, plus `VersionLog`'s; in kb.db at `path`, or in `database_url`'s PostgreSQL when set."""

    def __init__(self, path: Path, database_url: Any = None) -> None:
        self.db = KbDatabase(open_store(database_url, Path(path), "kb"))
        self.log = VersionLog(self.db)
        self._cache_lock = threading.Lock()
        self._live: tuple[float, int, int] | None = None  # (checked at, version, self.db.writes then)
        # What the live version holds (templates, slot declarations): a published version never changes.
        self._held: tuple[int, dict[str, Any]] = (-1, {})
        try:
            self.log.summarize_old_versions()
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        """Close kb.db (a shared PostgreSQL engine stays open for the other stores)."""
        self.db.close()

    def transaction(self) -> AbstractContextManager[Any]:
        """One write transaction: all of it lands, or none of it (nested calls join it)."""
        return self.db.transaction()

    def exclusive(self) -> AbstractContextManager[None]:
        """Keep other replicas from writing for a while (an ingest); see knowledge/kb_database.py."""
        return self.db.exclusive()

    # -- draft writes ----------------------------------------------------------------------------
    def _insert_revisions(self, units: list[dict]) -> list[str]:
        """Store unit revisions not stored yet (with their lexical rows); returns every unit's revision id."""
        revs = [unit_rev(u) for u in units]
        have = self.existing_revs(revs)
        new = [
            {"id": r, **{f: u.get(f) for f in UNIT_FIELDS}}
            for r, u in zip(revs, units, strict=True)
            if r not in have
        ]
        new = list({u["id"]: u for u in new}.values())
        if new:
            with self.transaction() as conn:
                conn.execute(insert(UNITS), new)
                if self.db.dialect == "sqlite":
                    conn.execute(
                        _FTS_INSERT,
                        [
                            {
                                "unit_id": u["id"],
                                "title": index_text(u["title"] or ""),
                                "heading": index_text(u["heading"] or ""),
                                "body": index_text(u["text"] or ""),
                            }
                            for u in new
                        ],
                    )
                else:
                    from knowledge.lexical_postgres import index_units

                    index_units(conn, new)
        return revs

    def existing_revs(self, revs: list[str]) -> set[str]:
        out: set[str] = set()
        for part in _chunks(revs):
            out.update(r[0] for r in self.db.tuples(_EXISTING, {"ids": part}))
        return out

    def stage_document(
        self, doc: dict, units: list[dict], actor: str, action: str, detail: dict | None = None
    ) -> None:
        """Atomically make `doc` with `units` (dicts with UNIT_FIELDS) the draft's version of that document."""
        with self.transaction() as conn:
            revs = self._insert_revisions(units)
            conn.execute(delete(DRAFT_UNITS).where(DRAFT_UNITS.c.doc_id == doc["id"]))
            uids = sorted({u["uid"] for u in units if u["kind"] == "template"})
            for part in _chunks(uids):  # a template id lives in one document: the latest wins
                conn.execute(
                    delete(DRAFT_UNITS).where(
                        DRAFT_UNITS.c.rev.in_(select(UNITS.c.id).where(UNITS.c.uid.in_(part)))
                    )
                )
            if revs:
                upsert(conn, DRAFT_UNITS, [{"rev": r, "doc_id": doc["id"]} for r in dict.fromkeys(revs)])
            row = {**DOC_COLUMNS, **(self.document(doc["id"]) or {}), **doc}
            upsert(conn, DOCUMENTS, [{k: row[k] for k in DOC_COLUMNS}])
            self.log.record(actor, action, doc["uri"], detail or {})

    def unstage_document(self, doc_id: str, actor: str, action: str = "delete") -> None:
        """Remove a document from the draft."""
        with self.transaction() as conn:
            doc = self.document(doc_id)
            conn.execute(delete(DRAFT_UNITS).where(DRAFT_UNITS.c.doc_id == doc_id))
            conn.execute(delete(DOCUMENTS).where(DOCUMENTS.c.id == doc_id))
            self.log.record(actor, action, doc["uri"] if doc else doc_id, {"document": doc_id})

    def collect_garbage(self) -> list[str]:
        """Delete revisions neither the draft nor any version holds; returns their ids (for the vectors)."""
        with self.transaction() as conn:
            dead = [r[0] for r in conn.execute(_DEAD)]
            for part in _chunks(dead):
                if self.db.dialect == "sqlite":
                    conn.execute(_FTS_DELETE, {"ids": part})
                else:
                    from knowledge.lexical_postgres import drop_units

                    drop_units(conn, part)
                conn.execute(delete(UNITS).where(UNITS.c.id.in_(part)))
        return dead

    # -- draft reads -----------------------------------------------------------------------------
    def document(self, doc_id: str) -> dict | None:
        rows = self.db.rows(select(DOCUMENTS).where(DOCUMENTS.c.id == doc_id))
        return rows[0] if rows else None

    def document_by_uri(self, uri: str) -> dict | None:
        rows = self.db.rows(select(DOCUMENTS).where(DOCUMENTS.c.uri == uri))
        return rows[0] if rows else None

    def documents(self) -> list[dict]:
        """The draft's documents (after a publish, the same as the live version's)."""
        return self.db.rows(select(DOCUMENTS).order_by(DOCUMENTS.c.uri))

    def draft_units(self, doc_id: str) -> list[dict]:
        rows = self.db.rows(
            "SELECT u.* FROM draft_units d JOIN units u ON u.id = d.rev WHERE d.doc_id = :doc "
            "ORDER BY u.ord, u.uid",
            {"doc": doc_id},
        )
        return [_decode(r) for r in rows]

    def document_public(self, doc_id: str) -> tuple[str | None, str | None]:
        """A draft document's public path and URL (from its units; None, None if it has none)."""
        rows = self.db.tuples(
            "SELECT u.path, u.url FROM draft_units d JOIN units u ON u.id = d.rev WHERE d.doc_id = :doc "
            "AND u.kind = 'document' LIMIT 1",
            {"doc": doc_id},
        )
        return (rows[0][0], rows[0][1]) if rows else (None, None)

    def draft_revs(self) -> set[str]:
        return {r[0] for r in self.db.tuples("SELECT rev FROM draft_units")}

    def all_revs(self) -> set[str]:
        return {r[0] for r in self.db.tuples("SELECT id FROM units")}

    def find_template_doc(self, template_id: str) -> str | None:
        return self.db.scalar(
            "SELECT d.doc_id FROM draft_units d JOIN units u ON u.id = d.rev WHERE u.uid = :uid",
            {"uid": f"tpl:{template_id}"},
        )

    def draft_languages(self) -> set[str]:
        """The languages the draft has templates or documents in (lower case)."""
        rows = self.db.tuples(
            "SELECT DISTINCT u.language FROM draft_units d JOIN units u ON u.id = d.rev "
            "WHERE u.kind IN ('template', 'document') AND coalesce(u.language, '') != ''"
        )
        return {r[0].lower() for r in rows}

    # -- live reads (search) ---------------------------------------------------------------------
    def live_version(self) -> int:
        """The live version's number; on a server database read at most every LIVE_CHECK_S (see above)."""
        if self.db.dialect == "sqlite" or self.db.in_transaction():
            return self.log.live_version()
        now, writes = time.monotonic(), self.db.writes
        seen = self._live
        if seen is not None and now - seen[0] < LIVE_CHECK_S and seen[2] == writes:
            return seen[1]
        version = self.log.live_version()
        self._live = (now, version, writes)
        return version

    def _live_held(self, key: str, read: Any) -> Any:
        """`read(version)` for the live version, kept per version (reads inside a transaction are not)."""
        version = self.live_version()
        if self.db.in_transaction():
            return read(version)
        with self._cache_lock:
            held_version, held = self._held
            if held_version == version and key in held:
                return held[key]
        value = read(version)
        with self._cache_lock:
            if self._held[0] != version:
                self._held = (version, {})
            self._held[1][key] = value
        return value

    def live_revs(self) -> set[str]:
        return {
            r[0]
            for r in self.db.tuples(
                "SELECT rev FROM version_units WHERE version = :v", {"v": self.live_version()}
            )
        }

    def units(self, ids: list[str] | None = None, *, live: bool = False) -> dict[str, dict]:
        """Unit revisions by id (all, or those in `ids`); `live` keeps only the live version's."""
        sql, args = "SELECT u.* FROM units u", {}
        if live:
            sql += " JOIN version_units v ON v.rev = u.id AND v.version = :v"
            args["v"] = self.live_version()
        if ids is None:
            rows = self.db.rows(sql, args)
        else:
            rows = []
            statement = text(sql + " WHERE u.id IN :ids").bindparams(bindparam("ids", expanding=True))
            for part in _chunks(list(ids)):
                rows += self.db.rows(statement, {**args, "ids": part})
        return {r["id"]: _decode(r) for r in rows}

    def lexical(
        self, query: str, n: int, language: str | None = None, kinds: set[str] | None = None
    ) -> dict[str, float]:
        """Lexical matches among the live units as {unit id: score} (higher is better): BM25 on SQLite's FTS5,
        knowledge/lexical_postgres.py on PostgreSQL."""
        if self.db.dialect != "sqlite":
            from knowledge.lexical_postgres import search

            with self.db.connection() as conn:
                return search(conn, query, n, version=self.live_version(), language=language, kinds=kinds)
        expr = match_expression(query)
        if expr is None:
            return {}
        sql = (
            f"SELECT f.unit_id AS id, -{FTS5_RANK} AS s FROM units_fts f "
            "JOIN version_units v ON v.rev = f.unit_id AND v.version = :v "
            "JOIN units u ON u.id = f.unit_id WHERE units_fts MATCH :expr"
        )
        args: dict[str, Any] = {"v": self.live_version(), "expr": expr, "n": n}
        if language:
            sql += " AND u.language = :language"
            args["language"] = language
        statement = text(sql + (" AND u.kind IN :kinds" if kinds else "") + " ORDER BY s DESC LIMIT :n")
        if kinds:
            statement = statement.bindparams(bindparam("kinds", expanding=True))
            args["kinds"] = sorted(kinds)
        return {r["id"]: float(r["s"]) for r in self.db.rows(statement, args)}

    def templates(
        self, intent: str | None = None, language: str | None = None, *, draft: bool = False
    ) -> list[Template]:
        """Live templates (or the draft's), by template id."""
        if draft:
            return self._templates(None, intent, language)
        return [
            t
            for t in self._live_templates()
            if (not intent or t.intent == intent) and (not language or t.language == language)
        ]

    def _live_templates(self) -> list[Template]:
        """Every live template, by template id: read once per version, filtered in memory."""
        return self._live_held("templates", lambda v: self._templates(v, None, None))

    def _templates(self, version: int | None, intent: str | None, language: str | None) -> list[Template]:
        """Version `version`'s templates, or the draft's (None)."""
        if version is None:
            sql = "SELECT u.* FROM units u JOIN draft_units d ON d.rev = u.id WHERE u.kind = 'template'"
            args: dict[str, Any] = {}
        else:
            sql = (
                "SELECT u.* FROM units u JOIN version_units v ON v.rev = u.id AND v.version = :v "
                "WHERE u.kind = 'template'"
            )
            args = {"v": version}
        if intent:
            sql += " AND u.intent = :intent"
            args["intent"] = intent
        if language:
            sql += " AND u.language = :language"
            args["language"] = language
        rows = self.db.rows(sql + " ORDER BY u.ref", args)
        return [Template(r["ref"], r["intent"], r["language"], r["title"], r["text"]) for r in rows]

    def slot_declarations(self, draft: bool = False, exclude_doc: str | None = None) -> dict[str, str]:
        """Stored slot declarations (JSON) by name: the live version's, or the draft's."""
        if draft:
            sql = "SELECT u.* FROM units u JOIN draft_units d ON d.rev = u.id WHERE u.kind = 'slot'"
            rows = self.db.rows(sql + " ORDER BY u.uid")
        else:
            rows = self._live_held("slots", self._live_slot_rows)
        return {r["ref"]: r["text"] for r in rows if r["doc_id"] != exclude_doc}

    def _live_slot_rows(self, version: int) -> list[dict]:
        sql = (
            "SELECT u.ref, u.text, u.doc_id FROM units u JOIN version_units v ON v.rev = u.id "
            "AND v.version = :v WHERE u.kind = 'slot' ORDER BY u.uid"
        )
        return self.db.rows(sql, {"v": version})

    def template(self, template_id: str) -> Template | None:
        return next((t for t in self._live_templates() if t.id == template_id), None)

    def counts(self) -> dict:
        """Live documents, chunks and templates."""
        return self.log.counts(self.live_version())

    def version(self) -> int:
        """The live version number (0 before the first publish)."""
        return self.live_version()


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


_EXISTING = text("SELECT id FROM units WHERE id IN :ids").bindparams(bindparam("ids", expanding=True))
_DEAD = text(
    "SELECT id FROM units WHERE id NOT IN (SELECT rev FROM draft_units) "
    "AND id NOT IN (SELECT rev FROM version_units)"
)
_FTS_INSERT = text(
    "INSERT INTO units_fts (unit_id, title, heading, body) VALUES (:unit_id, :title, :heading, :body)"
)
_FTS_DELETE = text("DELETE FROM units_fts WHERE unit_id IN :ids").bindparams(bindparam("ids", expanding=True))


def _decode(row: dict) -> dict:
    row["tags"] = json.loads(row["tags"] or "[]")
    return row
