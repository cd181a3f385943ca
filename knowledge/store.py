"""SQLite source of truth (sqlite-utils): documents, retrieval units, templates and the FTS5 index."""

from __future__ import annotations

import json
import time
from pathlib import Path

import sqlite_utils

from knowledge.lexical import FTS_TOKENIZER, index_text, match_expression
from knowledge.types import Template

SCHEMA_VERSION = 1


class Store:
    """Tables: documents (one row per source file), units (chunks and templates), templates, units_fts."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite_utils.Database(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        self._create()

    def _create(self) -> None:
        db = self.db
        if "meta" not in db.table_names():
            db["meta"].create({"key": str, "value": str}, pk="key")
            db["meta"].insert({"key": "schema", "value": str(SCHEMA_VERSION)})
            db["meta"].insert({"key": "version", "value": "0"})
        if "documents" not in db.table_names():
            db["documents"].create(
                {"id": str, "uri": str, "kind": str, "title": str, "language": str, "tags": str,
                 "hash": str, "size": int, "chunks": int, "ingested_at": float},
                pk="id",
            )
            db["documents"].create_index(["uri"], unique=True)
        if "units" not in db.table_names():
            db["units"].create(
                {"id": str, "doc_id": str, "kind": str, "ord": int, "title": str, "heading": str, "text": str,
                 "language": str, "tags": str, "intent": str, "uri": str, "ref": str},
                pk="id",
            )
            db["units"].create_index(["doc_id"])
        if "templates" not in db.table_names():
            db["templates"].create(
                {"id": str, "doc_id": str, "intent": str, "language": str, "title": str, "answer": str}, pk="id"
            )
            db["templates"].create_index(["intent", "language"])
        if "units_fts" not in db.table_names():
            db.execute(
                "CREATE VIRTUAL TABLE units_fts USING fts5("
                f"unit_id UNINDEXED, title, heading, body, tokenize='{FTS_TOKENIZER}')"
            )

    # -- documents -------------------------------------------------------------------------------
    def document_by_uri(self, uri: str) -> dict | None:
        rows = list(self.db["documents"].rows_where("uri = ?", [uri]))
        return rows[0] if rows else None

    def documents(self) -> list[dict]:
        return list(self.db["documents"].rows)

    def unit_ids(self, doc_id: str) -> list[str]:
        return [r["id"] for r in self.db.query("SELECT id FROM units WHERE doc_id = ?", [doc_id])]

    def replace_document(self, doc: dict, units: list[dict], templates: list[Template]) -> None:
        """Atomically replace a document's row, units, templates and FTS entries."""
        with self.db.conn:
            self._delete(doc["id"])
            self.db["documents"].insert({**doc, "ingested_at": time.time()}, replace=True)
            if units:
                self.db["units"].insert_all(units)
                self.db["units_fts"].insert_all(
                    {"unit_id": u["id"], "title": index_text(u["title"]), "heading": index_text(u["heading"]),
                     "body": index_text(u["text"])}
                    for u in units
                )
            if templates:
                self.db["templates"].insert_all(
                    ({"doc_id": doc["id"], **t.__dict__} for t in templates), replace=True
                )
            self._bump()

    def delete_document(self, doc_id: str) -> None:
        with self.db.conn:
            self._delete(doc_id)
            self._bump()

    def _delete(self, doc_id: str) -> None:
        self.db.execute(
            "DELETE FROM units_fts WHERE unit_id IN (SELECT id FROM units WHERE doc_id = ?)", [doc_id]
        )
        self.db.execute("DELETE FROM units WHERE doc_id = ?", [doc_id])
        self.db.execute("DELETE FROM templates WHERE doc_id = ?", [doc_id])
        self.db.execute("DELETE FROM documents WHERE id = ?", [doc_id])

    def _bump(self) -> None:
        self.db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version'")

    # -- reading ---------------------------------------------------------------------------------
    def version(self) -> int:
        return int(self.db["meta"].get("version")["value"])

    def units(self, ids: list[str] | None = None) -> dict[str, dict]:
        if ids is None:
            rows = self.db.query("SELECT * FROM units")
        else:
            if not ids:
                return {}
            marks = ",".join("?" * len(ids))
            rows = self.db.query(f"SELECT * FROM units WHERE id IN ({marks})", list(ids))
        out = {}
        for r in rows:
            r["tags"] = json.loads(r["tags"] or "[]")
            out[r["id"]] = r
        return out

    def lexical(self, query: str, n: int, language: str | None = None, kinds: set[str] | None = None) -> dict[str, float]:
        """BM25 matches as {unit id: positive bm25 score} (higher is better)."""
        expr = match_expression(query)
        if expr is None:
            return {}
        sql = (
            "SELECT f.unit_id AS id, -bm25(units_fts, 2.0, 1.5, 1.0) AS s FROM units_fts f "
            "JOIN units u ON u.id = f.unit_id WHERE units_fts MATCH ?"
        )
        args: list = [expr]
        if language:
            sql += " AND u.language = ?"
            args.append(language)
        if kinds:
            sql += f" AND u.kind IN ({','.join('?' * len(kinds))})"
            args.extend(sorted(kinds))
        sql += " ORDER BY s DESC LIMIT ?"
        args.append(n)
        return {r["id"]: float(r["s"]) for r in self.db.query(sql, args)}

    def templates(self, intent: str | None = None, language: str | None = None) -> list[Template]:
        where, args = [], []
        if intent:
            where.append("intent = ?")
            args.append(intent)
        if language:
            where.append("language = ?")
            args.append(language)
        rows = self.db["templates"].rows_where(" AND ".join(where) or None, args or None, order_by="id")
        return [Template(r["id"], r["intent"], r["language"], r["title"], r["answer"]) for r in rows]

    def template(self, template_id: str) -> Template | None:
        rows = list(self.db["templates"].rows_where("id = ?", [template_id]))
        if not rows:
            return None
        r = rows[0]
        return Template(r["id"], r["intent"], r["language"], r["title"], r["answer"])

    def counts(self) -> dict:
        q = self.db.execute
        return {
            "documents": q("SELECT count(*) FROM documents WHERE kind = 'document'").fetchone()[0],
            "chunks": q("SELECT count(*) FROM units WHERE kind = 'document'").fetchone()[0],
            "templates": q("SELECT count(*) FROM templates").fetchone()[0],
        }
