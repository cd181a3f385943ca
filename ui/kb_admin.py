"""Knowledge-base curation for the admin console: browse, edit as draft, publish, roll back, audit.

The console talks to this adapter only. When `KnowledgeBase` offers its own curation methods (`save_draft`,
`publish`, `rollback`, `audit`, ...), the adapter delegates to them; until then it keeps drafts, published
versions and the audit log in `HOME/kb/curation.db` and applies a published edit to the live knowledge base
itself (the template or document's rows, FTS entries and vectors are replaced in place, so ids, sources and
links stay the same).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import sqlite_utils

from knowledge import KnowledgeBase
from knowledge.lexical import index_text

TEMPLATE, DOCUMENT = "template", "document"


class CurationError(ValueError):
    """Something the admin asked for that cannot be done (unknown item, nothing to publish...)."""


def _embed_text(title: str, heading: str, text: str) -> str:
    head = title + (" — " + heading if heading else "")
    return f"{head}\n{text}"


class KnowledgeCuration:
    """Drafts, versions and audit over one `KnowledgeBase` (`lock` is the assistant's KB lock, if any)."""

    def __init__(self, kb: KnowledgeBase, lock: AbstractContextManager[Any] | None = None) -> None:
        self.kb = kb
        self.lock: AbstractContextManager[Any] = lock or nullcontext()
        path = Path(kb.path) / "curation.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite_utils.Database(sqlite3.connect(str(path), check_same_thread=False, timeout=30))
        self.db.execute("PRAGMA journal_mode=WAL")
        self._lock = threading.RLock()
        self.db["drafts"].create(
            {"kind": str, "target_id": str, "title": str, "body": str, "author": str, "updated_at": float},
            pk=("kind", "target_id"), if_not_exists=True,
        )
        self.db["versions"].create(
            {"id": int, "kind": str, "target_id": str, "version": int, "title": str, "body": str, "author": str,
             "published_at": float, "note": str},
            pk="id", if_not_exists=True,
        )
        self.db["audit"].create(
            {"id": int, "ts": float, "actor": str, "action": str, "kind": str, "target_id": str, "detail": str},
            pk="id", if_not_exists=True,
        )

    # -- capability of the knowledge base itself ---------------------------------------------------
    def native(self, name: str) -> Any:
        """The knowledge base's own curation method `name`, or None when it has none."""
        return getattr(self.kb, name, None)

    # -- browsing --------------------------------------------------------------------------------
    def documents(self) -> list[dict[str, Any]]:
        rows = self.kb.store.documents()
        return sorted((r for r in rows if r.get("kind") == DOCUMENT), key=lambda r: (r.get("language") or "", r["title"]))

    def templates(self) -> list[Any]:
        return self.kb.templates()

    def current(self, kind: str, target_id: str) -> tuple[str, str]:
        """(title, body) as live in the knowledge base now."""
        if kind == TEMPLATE:
            t = self.kb.get_template(target_id)
            if t is None:
                raise CurationError(f"no template {target_id!r}")
            return t.title, t.answer
        doc = self._document(target_id)
        uri = Path(doc["uri"]) if "://" not in doc["uri"] else None
        versions = self.versions(kind, target_id)
        if versions:
            return versions[0]["title"], versions[0]["body"]
        if uri is not None and uri.is_file() and uri.suffix.lower() in (".md", ".markdown", ".txt"):
            return doc["title"], uri.read_text(encoding="utf-8", errors="replace")
        units = sorted(self._units(doc["id"]), key=lambda u: u["ord"])
        parts = []
        for u in units:
            parts.append((f"## {u['heading']}\n\n" if u["heading"] else "") + u["text"])
        return doc["title"], "\n\n".join(parts)

    def draft(self, kind: str, target_id: str) -> dict[str, Any] | None:
        with self._lock:
            rows = list(self.db.query("select * from drafts where kind = ? and target_id = ?", [kind, target_id]))
        return rows[0] if rows else None

    def drafts(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.db.query("select kind, target_id, title, author, updated_at from drafts"
                                      " order by updated_at desc"))

    def versions(self, kind: str, target_id: str) -> list[dict[str, Any]]:
        """Published versions, newest first."""
        with self._lock:
            return list(self.db.query(
                "select * from versions where kind = ? and target_id = ? order by version desc", [kind, target_id]))

    def audit(self, limit: int = 200) -> list[dict[str, Any]]:
        native = self.native("audit")
        if callable(native):
            try:
                return list(native(limit=limit))
            except TypeError:
                return list(native())[:limit]
        with self._lock:
            return list(self.db.query("select * from audit order by id desc limit ?", [limit]))

    # -- editing ---------------------------------------------------------------------------------
    def save_draft(self, kind: str, target_id: str, title: str, body: str, author: str = "admin") -> dict[str, Any]:
        self._check(kind, target_id)
        if not body.strip():
            raise CurationError("the text is empty")
        row = {"kind": kind, "target_id": target_id, "title": title.strip(), "body": body, "author": author,
               "updated_at": time.time()}
        with self._lock:
            self.db["drafts"].insert(row, replace=True)
        self._log(author, "save_draft", kind, target_id, {"title": row["title"], "chars": len(body)})
        return row

    def discard_draft(self, kind: str, target_id: str, author: str = "admin") -> bool:
        with self._lock:
            cur = self.db.execute("delete from drafts where kind = ? and target_id = ?", [kind, target_id])
            self.db.conn.commit()
        if cur.rowcount:
            self._log(author, "discard_draft", kind, target_id, {})
        return cur.rowcount > 0

    def publish(self, kind: str, target_id: str, author: str = "admin") -> int:
        """Make the draft live; returns the new version number."""
        draft = self.draft(kind, target_id)
        if draft is None:
            raise CurationError("there is no draft to publish: save one first")
        version = self._publish(kind, target_id, draft["title"], draft["body"], author, "publish")
        with self._lock:
            self.db.execute("delete from drafts where kind = ? and target_id = ?", [kind, target_id])
            self.db.conn.commit()
        return version

    def rollback(self, kind: str, target_id: str, version: int | None = None, author: str = "admin") -> int:
        """Publish an earlier version again (the one before the live one when `version` is None)."""
        versions = self.versions(kind, target_id)
        if version is None:
            if len(versions) < 2:
                raise CurationError("there is no earlier version to roll back to")
            chosen = versions[1]
        else:
            found = [v for v in versions if v["version"] == version]
            if not found:
                raise CurationError(f"no version {version}")
            chosen = found[0]
        return self._publish(kind, target_id, chosen["title"], chosen["body"], author,
                             f"rollback to v{chosen['version']}")

    def ingest_uploads(self, files: list[Path], author: str = "admin") -> dict[str, Any]:
        """Copy uploaded files into HOME/kb/uploads/ (so their sources stay readable) and ingest them."""
        target = Path(self.kb.path) / "uploads"
        target.mkdir(parents=True, exist_ok=True)
        kept = []
        for f in files:
            dest = target / Path(f).name
            shutil.copyfile(f, dest)
            kept.append(dest)
        with self.lock:
            report = self.kb.ingest(kept)
        out = {k: getattr(report, k) for k in ("added", "updated", "unchanged", "removed", "chunks")}
        out["errors"] = [{"file": Path(e["path"]).name, "error": e["error"]} for e in report.errors]
        self._log(author, "ingest", "files", ", ".join(p.name for p in kept), out)
        return out

    # -- internals -------------------------------------------------------------------------------
    def _check(self, kind: str, target_id: str) -> None:
        if kind == TEMPLATE:
            if self.kb.get_template(target_id) is None:
                raise CurationError(f"no template {target_id!r}")
        elif kind == DOCUMENT:
            self._document(target_id)
        else:
            raise CurationError(f"unknown kind {kind!r}")

    def _document(self, doc_id: str) -> dict[str, Any]:
        rows = list(self.kb.store.db["documents"].rows_where("id = ?", [doc_id]))
        if not rows:
            raise CurationError(f"no document {doc_id!r}")
        return rows[0]

    def _units(self, doc_id: str) -> list[dict[str, Any]]:
        return list(self.kb.store.db.query("select * from units where doc_id = ?", [doc_id]))

    def _log(self, actor: str, action: str, kind: str, target_id: str, detail: dict[str, Any]) -> None:
        with self._lock:
            self.db["audit"].insert({"ts": time.time(), "actor": actor, "action": action, "kind": kind,
                                     "target_id": target_id, "detail": json.dumps(detail, ensure_ascii=False)})

    def _publish(self, kind: str, target_id: str, title: str, body: str, author: str, note: str) -> int:
        self._check(kind, target_id)
        with self._lock:
            if not self.versions(kind, target_id):  # keep what was live before the first edit, for rollback
                old_title, old_body = self.current(kind, target_id)
                self.db["versions"].insert({"kind": kind, "target_id": target_id, "version": 1, "title": old_title,
                                            "body": old_body, "author": "(original)", "published_at": time.time(),
                                            "note": "as ingested"})
            with self.lock:
                if kind == TEMPLATE:
                    self._apply_template(target_id, title, body)
                else:
                    self._apply_document(target_id, title, body)
            number = self.versions(kind, target_id)[0]["version"] + 1
            self.db["versions"].insert({"kind": kind, "target_id": target_id, "version": number, "title": title,
                                        "body": body, "author": author, "published_at": time.time(), "note": note})
        self._log(author, "publish" if note == "publish" else "rollback", kind, target_id,
                  {"version": number, "note": note, "title": title})
        return number

    def _apply_template(self, template_id: str, title: str, answer: str) -> None:
        kb = self.kb
        t = kb.get_template(template_id)
        assert t is not None
        title = title or t.title
        unit_id = f"tpl:{template_id}"
        db = kb.store.db
        with db.conn:
            db.execute("update templates set title = ?, answer = ? where id = ?", [title, answer, template_id])
            db.execute("update units set title = ?, text = ? where id = ?", [title, answer, unit_id])
            db.execute("delete from units_fts where unit_id = ?", [unit_id])
            db.execute("insert into units_fts (unit_id, title, heading, body) values (?, ?, '', ?)",
                       [unit_id, index_text(title), index_text(answer)])
            db.execute("update meta set value = cast(value as integer) + 1 where key = 'version'")
        rows = list(db.query("select * from units where id = ?", [unit_id]))
        if rows:
            u = rows[0]
            vec = kb.embedder.embed_passages([_embed_text(u["title"], u["heading"] or "", u["text"])])
            kb.vectors.upsert([unit_id], vec, [{"kind": u["kind"], "language": u["language"], "doc_id": u["doc_id"]}])

    def _apply_document(self, doc_id: str, title: str, body: str) -> None:
        kb = self.kb
        doc = self._document(doc_id)
        chunks = kb.chunker.chunk(body, markdown=True)
        if not chunks:
            raise CurationError("the document has no text content")
        title = title or doc["title"]
        language = doc["language"]
        tags = doc.get("tags") or "[]"
        units = [
            {"id": f"{doc_id}-{i:04d}", "doc_id": doc_id, "kind": DOCUMENT, "ord": i, "title": title,
             "heading": c.heading, "text": c.text, "language": language, "tags": tags, "intent": None,
             "uri": doc["uri"], "ref": None}
            for i, c in enumerate(chunks)
        ]
        vectors = kb.embedder.embed_passages([_embed_text(u["title"], u["heading"], u["text"]) for u in units])
        old_ids = kb.store.unit_ids(doc_id)
        db = kb.store.db
        digest = hashlib.sha256(body.encode()).hexdigest()
        with db.conn:
            db.execute("delete from units_fts where unit_id in (select id from units where doc_id = ?)", [doc_id])
            db.execute("delete from units where doc_id = ?", [doc_id])
            db["units"].insert_all(units)
            db["units_fts"].insert_all(
                {"unit_id": u["id"], "title": index_text(u["title"]), "heading": index_text(u["heading"]),
                 "body": index_text(u["text"])} for u in units)
            db.execute("update documents set title = ?, hash = ?, size = ?, chunks = ?, ingested_at = ? where id = ?",
                       [title, digest, len(body.encode()), len(units), time.time(), doc_id])
            db.execute("update meta set value = cast(value as integer) + 1 where key = 'version'")
        kb.vectors.delete(sorted(set(old_ids) - {u["id"] for u in units}))
        kb.vectors.upsert([u["id"] for u in units], vectors,
                          [{"kind": DOCUMENT, "language": language, "doc_id": doc_id} for u in units])
