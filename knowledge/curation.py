"""`Curation` of a knowledge base: edits land in the draft, `publish` makes them live, `rollback` undoes.

Every change (ingest, document edit, template upsert, delete) is staged in the draft and audited; search
serves only the live version until `publish(actor)` snapshots the draft as version N+1 and flips the live
pointer in one transaction. `rollback(version, actor)` flips it back (and resets the draft to that
version). Chroma holds one vector per unit revision with a `live` flag that follows the pointer (see
knowledge/vector_sync.py). Editing a template or document marks its other-language twins "needs update"
until they are edited or confirmed (see knowledge/twins.py). Callers serialize access (`KnowledgeBase` holds
its lock around every call).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import partial

from knowledge.chunking import MarkdownChunker
from knowledge.slots import check_template
from knowledge.store import Store
from knowledge.twins import (
    DOCUMENT,
    TEMPLATE,
    TRANSLATION,
    Twins,
    change_summary,
    document_key,
    same_text,
)
from knowledge.types import Template
from knowledge.unit_rows import as_unit, document_units, sha, template_unit, unit_template
from knowledge.vector_sync import VectorSync
from knowledge.versions import NothingToPublish, UnknownVersion

ADMIN_TEMPLATES_URI = "admin://templates"

__all__ = ["Curation", "NothingToPublish", "UnknownVersion"]


class Curation:
    """Draft / publish / rollback / audit over one knowledge base's store and vectors (see the module docstring)."""

    def __init__(self, store: Store, vector_sync: VectorSync, chunker: MarkdownChunker) -> None:
        self.store = store
        self.vector_sync = vector_sync
        self.chunker = chunker

    # -- staging (used by ingest and the edits below) --------------------------------------------
    def stage(
        self,
        doc: dict,
        units: list[dict],
        actor: str,
        action: str,
        detail: dict | None = None,
        embedded: bool = False,
        then: Callable[[], None] | None = None,
    ) -> None:
        """Embed the units' new revisions, store their vectors (not live), then stage them in SQLite.

        `embedded`: the caller already stored the vectors (ingest embeds many files' units in one batch).
        `then`: more writes that land in the same transaction (the twins' marks).
        """
        if not embedded:
            self.vector_sync.embed_new(self.store, units)
        with self.store.transaction():
            self.store.stage_document(doc, units, actor, action, detail)
            if then is not None:
                then()

    # -- reading ---------------------------------------------------------------------------------
    def documents(self) -> list[dict]:
        """The draft's documents: id, uri, kind, title, language, tags, chunks, size, dates, and `change`
        (None when it matches the live version, else "added" / "changed")."""
        changes = {c["id"]: c["change"] for c in self.store.log.changes()}
        out = []
        for d in self.store.documents():
            row = {k: v for k, v in d.items() if k not in ("body", "hash")}
            row["tags"] = json.loads(d["tags"] or "[]")
            row["change"] = changes.get(d["id"])
            out.append(row)
        return out

    def document(self, id_or_uri: str) -> dict | None:
        """One draft document with its `text` (documents) or `templates` (template files); None if unknown."""
        d = self.store.document(id_or_uri) or self.store.document_by_uri(id_or_uri)
        if d is None:
            return None
        units = self.store.draft_units(d["id"])
        row = {k: v for k, v in d.items() if k != "body"}
        row["tags"] = json.loads(d["tags"] or "[]")
        if d["kind"] == "templates":
            row["templates"] = [unit_template(u).__dict__ for u in units if u["kind"] == "template"]
        else:
            row["text"] = (
                d["body"]
                if d["body"] is not None
                else "\n\n".join(
                    (f"## {u['heading']}\n\n" if u["heading"] else "") + u["text"] for u in units
                )
            )
        return row

    def draft_changes(self) -> list[dict]:
        """Documents whose draft differs from the live version: {id, uri, title, kind, change}."""
        return self.store.log.changes()

    def versions(self) -> list[dict]:
        """Published versions, newest first: version, created_at, actor, note, counts, live."""
        return self.store.log.versions()

    def audit(self, limit: int = 100) -> list[dict]:
        """The newest audit entries: id, at (unix time), actor, action, target, detail."""
        return self.store.log.audit(limit)

    def languages(self) -> set[str]:
        """The languages the draft has templates or documents in."""
        return self.store.draft_languages()

    # -- twins (see knowledge/twins.py) -----------------------------------------------------------
    def twins(self) -> Twins:
        return Twins(self.store.db)

    def twin_status(self, kind: str, item_id: str) -> dict:
        """An item's "needs update" mark and its twins with theirs; KeyError for an unknown item."""
        return self.twins().status(_kind(kind), item_id)

    def needs_update(self) -> list[dict]:
        """Every item of the draft marked "needs update": {kind, id, needs_update (the mark)}."""
        return [
            {"kind": kind, "id": item_id, "needs_update": flag}
            for (kind, item_id), flag in self.twins().flags().items()
        ]

    def confirm_twin(self, kind: str, item_id: str, actor: str) -> dict:
        """Say an item is still right although its twin changed: its mark goes (audited); its status after.
        KeyError for an unknown item."""
        kind = _kind(kind)
        twins = self.twins()
        if item_id not in twins.items(kind):
            raise KeyError(f"no {kind} {item_id!r}")
        mark = twins.flag(kind, item_id)
        if mark is not None and mark["needs_translation"]:
            raise ValueError(
                f"{item_id} is still the {mark['source_language']} text of {mark['source']}: write it in its "
                "own language (or delete it); it is not published until then"
            )
        with self.store.transaction():
            had = twins.clear(kind, item_id)
            if had is not None:
                self.store.log.record(
                    actor,
                    "confirm_twin",
                    item_id,
                    {"kind": kind, "source": had["source"], "diff": had["diff"]},
                )
        return twins.status(kind, item_id)

    def _twin_edit(
        self, kind: str, source: dict, key: str, old: dict, new: dict, actor: str, detail: dict
    ) -> Callable[[], None] | None:
        """Plan what an edit does to the marks (adds `twins_marked` to the audit `detail`); the writes to run
        in the edit's transaction, None when the title and text did not change."""
        fields = [f for f in new if not same_text(old.get(f), new[f])]
        if not fields:
            return None
        twins = self.twins()
        catching_up, targets = twins.plan_edit(kind, source["id"], source["language"], key)
        if catching_up:
            detail["twin_updated"] = True

            def caught_up() -> None:
                twins.clear(kind, source["id"])

            return caught_up
        if not targets:
            return None
        detail["twins_marked"] = [t["id"] for t in targets]
        main = fields[-1]
        diff = change_summary(old.get(main) or "", new[main])
        return lambda: twins.mark(kind, source, targets, actor, fields, diff)

    # -- editing the draft -----------------------------------------------------------------------
    def edit_document(self, id_or_uri: str, text: str, actor: str, title: str | None = None) -> dict:
        """Replace a document's text (Markdown) in the draft. The edit stays until its source file changes.

        Raises KeyError for an unknown document, ValueError for a template file or text without content.
        """
        d = self.store.document(id_or_uri) or self.store.document_by_uri(id_or_uri)
        if d is None:
            raise KeyError(f"no document {id_or_uri!r}")
        if d["kind"] != "document":
            raise ValueError("a template file: edit its templates with upsert_template")
        title = (title or "").strip() or d["title"]
        public = self.store.document_public(d["id"])
        units = document_units(
            self.chunker, d["id"], d["uri"], title, text, True, d["language"], d["tags"] or "[]", public
        )
        if not units:
            raise ValueError("the text has no content")
        before = self.document(d["id"]) or {}
        detail = {"document": d["id"], "chunks": len(units)}
        then = self._twin_edit(
            DOCUMENT,
            {"id": d["id"], "language": d["language"], "title": title},
            document_key(public[0], d["uri"], d["language"]),
            {"title": before.get("title"), "text": before.get("text")},
            {"title": title, "text": text},
            actor,
            detail,
        )
        doc = {
            **d,
            "title": title,
            "body": text,
            "chunks": len(units),
            "updated_at": time.time(),
            "updated_by": actor,
        }
        self.stage(doc, units, actor, "edit", detail, then=then)
        return self.document(d["id"]) or {}

    def upsert_template(
        self,
        template: Template | dict,
        actor: str,
        *,
        hold_from: Template | None = None,
        mark_twins: bool = False,
    ) -> dict:
        """Add or replace an answer template (by id) in the draft; new ones go to an admin templates document.

        `hold_from`: the text is `hold_from`'s, not yet translated; the template is held out of publishing
        until it is edited (knowledge/twins.py). `mark_twins`: a new template marks its twins "needs update"
        too (an edit of an existing one always does)."""
        t = (
            template
            if isinstance(template, Template)
            else Template(**{f: str(template.get(f) or "").strip() for f in Template.__dataclass_fields__})
        )
        missing = [
            f for f in ("id", "intent", "language", "title", "answer") if not str(getattr(t, f)).strip()
        ]
        if missing:
            raise ValueError(f"missing field(s) {', '.join(missing)}")
        # Every {slot} must be declared (a SlotError is a ValueError): not a question asked forever at chat time.
        check_template(t.answer, set(self.store.slot_declarations(draft=True)))
        t = Template(
            t.id.strip(), t.intent.strip(), t.language.strip().lower(), t.title.strip(), t.answer.strip()
        )
        found = self.store.find_template_doc(t.id)
        doc_id = found or sha(ADMIN_TEMPLATES_URI)[:16]
        old = next((u for u in self.store.draft_units(doc_id) if u["uid"] == f"tpl:{t.id}"), None)
        detail: dict = {"template": t.id, "document": doc_id}
        twins = self.twins()
        me = {"id": t.id, "language": t.language, "title": t.title}
        then: Callable[[], None] | None = None
        if hold_from is not None:
            detail["needs"] = TRANSLATION
            source = {"id": hold_from.id, "language": hold_from.language, "title": hold_from.title}
            then = partial(twins.hold, t.id, source, actor)
        elif (found and old is not None) or mark_twins:
            before = {"title": old["title"], "answer": old["text"]} if old else {"title": "", "answer": ""}
            new = {"title": t.title, "answer": t.answer}
            then = self._twin_edit(TEMPLATE, me, t.intent, before, new, actor, detail)
        d = self.store.document(doc_id) or {
            "id": doc_id,
            "uri": ADMIN_TEMPLATES_URI,
            "kind": "templates",
            "title": "Templates (admin)",
            "language": t.language,
            "tags": "[]",
            "hash": "",
            "size": 0,
        }
        units = [u for u in self.store.draft_units(doc_id) if u["uid"] != f"tpl:{t.id}"]
        units = [as_unit(u) for u in units] + [template_unit(doc_id, t)]
        doc = {**d, "chunks": len(units), "updated_at": time.time(), "updated_by": actor}
        self.stage(doc, units, actor, "upsert_template", detail, then=then)
        return t.__dict__

    def delete(self, id_or_uri: str, actor: str) -> dict:
        """Remove a document (by id or uri) or a template (by id) from the draft; KeyError if unknown."""
        d = self.store.document(id_or_uri) or self.store.document_by_uri(id_or_uri)
        if d is not None:
            self.store.unstage_document(d["id"], actor)
            return {"deleted": "document", "id": d["id"], "uri": d["uri"]}
        doc_id = self.store.find_template_doc(id_or_uri)
        if doc_id is None:
            raise KeyError(f"no document or template {id_or_uri!r}")
        d = self.store.document(doc_id) or {}
        units = [as_unit(u) for u in self.store.draft_units(doc_id) if u["uid"] != f"tpl:{id_or_uri}"]
        self.stage(
            {**d, "chunks": len(units), "updated_at": time.time(), "updated_by": actor},
            units,
            actor,
            "delete_template",
            {"template": id_or_uri, "document": doc_id},
            then=lambda: self.twins().clear(TEMPLATE, id_or_uri),  # a later template of that id starts clean
        )
        return {"deleted": "template", "id": id_or_uri, "uri": d.get("uri")}

    # -- versions --------------------------------------------------------------------------------
    def publish(self, actor: str, note: str = "") -> dict:
        """Make the draft live as version N+1 (one transaction); raises NothingToPublish if unchanged."""
        before = self.store.live_revs()
        row = self.store.log.publish(actor, note)
        self.vector_sync.refresh_live_flags(self.store, before)
        return row

    def rollback(self, version: int, actor: str) -> dict:
        """Make published `version` live again and reset the draft to it; raises UnknownVersion (a KeyError)."""
        before = self.store.live_revs()
        row = self.store.log.rollback(version, actor)
        self.vector_sync.refresh_live_flags(self.store, before)
        return row


def _kind(kind: str) -> str:
    if kind not in (TEMPLATE, DOCUMENT):
        raise KeyError(f"no kind {kind!r} (template or document)")
    return kind
