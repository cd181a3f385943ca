"""Knowledge-base curation for every surface (the console, the REST API), over the knowledge base's own API.

`KnowledgeBase` keeps one draft for the whole knowledge base: edits (`edit_document`, `upsert_template`) and
uploads land in the draft, `publish(actor, note)` makes the whole draft live as version N+1, `rollback(version,
actor)` makes an earlier version live again (and resets the draft to it), and `audit()` lists every change
(see knowledge/curation.py). Editing an item marks its other-language twins "needs update" until they are
edited or confirmed (`twins`, `confirm`; see knowledge/twins.py). This gives the surfaces one small interface over it and turns the knowledge
package's errors into the operation errors (NotFound, Conflict, Invalid); when a method is missing (an older
knowledge package), the matching action says so instead of breaking the page.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from assistant.operations.operation_errors import Conflict, Invalid, NotFound, OperationError
from knowledge import KnowledgeBase, Template
from knowledge.versions import NothingToPublish

TEMPLATE, DOCUMENT = "template", "document"


class KnowledgeCuration:
    """Browse, edit, publish, roll back and audit one `KnowledgeBase`; `lock` serializes the surfaces' changes."""

    def __init__(self, kb: KnowledgeBase, lock: AbstractContextManager[Any] | None = None) -> None:
        self.kb = kb
        self.lock: AbstractContextManager[Any] = lock or nullcontext()

    # -- browsing (the draft, which is what an editor works on) -----------------------------------
    def templates(self) -> list[Template]:
        return self.kb.templates(draft=True)

    def live_templates(self) -> dict[str, Template]:
        return {t.id: t for t in self.kb.templates()}

    def documents(self) -> list[dict[str, Any]]:
        rows = self.kb.documents()
        docs = [r for r in rows if r.get("kind") == DOCUMENT]
        return sorted(docs, key=lambda r: (r.get("language") or "", r.get("title") or ""))

    def changes(self) -> list[dict[str, Any]]:
        return list(self.kb.draft_changes())

    def versions(self) -> list[dict[str, Any]]:
        return list(self.kb.versions())

    def live_version(self) -> int | None:
        live = [v["version"] for v in self.versions() if v.get("live")]
        return live[0] if live else None

    def audit(self, limit: int = 200) -> list[dict[str, Any]]:
        return list(self.kb.audit(limit=limit))

    def open(self, kind: str, target_id: str) -> dict[str, Any]:
        """The draft of one item: {title, body, language, intent (templates), changed (vs live), needs_update
        (its mark or None), twins (each with its mark)}."""
        item = self._open(kind, target_id)
        status = self.twins(kind, target_id)
        return {**item, "needs_update": status["needs_update"], "twins": status["twins"]}

    def _open(self, kind: str, target_id: str) -> dict[str, Any]:
        if kind == TEMPLATE:
            draft = {t.id: t for t in self.templates()}.get(target_id)
            if draft is None:
                raise NotFound(f"no template {target_id!r}")
            live = self.live_templates().get(target_id)
            return {
                "title": draft.title,
                "body": draft.answer,
                "language": draft.language,
                "intent": draft.intent,
                "changed": live is None or (live.title, live.answer) != (draft.title, draft.answer),
            }
        doc = self.kb.document(target_id)
        if doc is None or doc.get("kind") != DOCUMENT:
            raise NotFound(f"no document {target_id!r}")
        changed = any(c["id"] == doc["id"] for c in self.changes())
        return {
            "title": doc.get("title") or "",
            "body": doc.get("text") or "",
            "language": doc.get("language"),
            "intent": None,
            "changed": changed,
            "uri": doc.get("uri"),
        }

    # -- twins: the same item in other languages --------------------------------------------------
    def twins(self, kind: str, target_id: str) -> dict[str, Any]:
        """{kind, id, language, title, needs_update (the mark: source, by, at, changed, diff; or None),
        twins: [the same for each other-language twin]}; NotFound for an unknown item."""
        try:
            with self.lock:
                return self.kb.twin_status(kind, target_id)
        except KeyError as exc:
            raise _translated(exc) from None

    def needs_update(self) -> set[tuple[str, str]]:
        """(kind, id) of every draft item marked "needs update" (or "needs translation")."""
        with self.lock:
            return {(r["kind"], r["id"]) for r in self.kb.needs_update()}

    def needs_translation(self) -> set[str]:
        """Ids of the draft templates held for translation: left out of publishing until edited."""
        with self.lock:
            marks = self.kb.needs_update()
        return {
            r["id"] for r in marks if r["kind"] == TEMPLATE and r["needs_update"].get("needs_translation")
        }

    def confirm(self, kind: str, target_id: str, actor: str) -> dict[str, Any]:
        """Say an item is still right although its twin changed (clears its mark); its status after. Invalid
        for a template held for translation: it must be written in its language first."""
        try:
            with self.lock:
                return self.kb.confirm_twin(kind, target_id, actor)
        except (KeyError, ValueError) as exc:
            raise _translated(exc) from None

    def languages(self) -> set[str]:
        """The languages the knowledge base (its draft) has content in."""
        with self.lock:
            return self.kb.languages()

    def draft_answer(self, intent: str, language: str, title: str, answer: str, actor: str) -> dict[str, Any]:
        """A person's answer as the intent's draft template in `language`; every other language held for
        translation or marked "needs update" (knowledge/answer_drafts.py). Invalid if incomplete."""
        try:
            with self.lock:
                return self.kb.draft_answer(intent, language, title, answer, actor)
        except (KeyError, ValueError) as exc:
            raise _translated(exc) from None

    # -- editing ---------------------------------------------------------------------------------
    def save_draft(self, kind: str, target_id: str, title: str, body: str, actor: str) -> None:
        if not body.strip():
            raise Invalid("the text is empty")
        try:
            with self.lock:
                if kind == TEMPLATE:
                    current = {t.id: t for t in self.templates()}.get(target_id)
                    if current is None:
                        raise NotFound(f"no template {target_id!r}")
                    self.kb.upsert_template(
                        Template(
                            current.id,
                            current.intent,
                            current.language,
                            title.strip() or current.title,
                            body.strip(),
                        ),
                        actor,
                    )
                else:
                    self.kb.edit_document(target_id, body, actor, title=title.strip() or None)
        except (KeyError, ValueError) as exc:
            raise _translated(exc) from None

    def publish(self, actor: str, note: str = "") -> dict[str, Any]:
        """Make the whole draft live; returns the new version row."""
        try:
            with self.lock:
                return self.kb.publish(actor, note=note)
        except (KeyError, ValueError) as exc:  # NothingToPublish is a ValueError
            raise _translated(exc) from None

    def rollback(self, version: int, actor: str) -> dict[str, Any]:
        try:
            with self.lock:
                return self.kb.rollback(int(version), actor)
        except (KeyError, ValueError) as exc:  # UnknownVersion is a KeyError
            raise _translated(exc) from None

    def discard_draft(self, actor: str) -> dict[str, Any]:
        """Drop every unpublished change: the live version again, as the draft."""
        live = self.live_version()
        if live is None:
            raise Conflict("nothing has been published yet")
        if not self.changes():
            raise Conflict("the draft has no unpublished changes")
        return self.rollback(live, actor)

    def ingest_uploads(
        self, files: list[Path], actor: str, received: Callable[[Path], bool], publish: bool = True
    ) -> dict[str, Any]:
        """Copy uploaded files into KB/uploads/ (so their sources stay readable) and ingest them: only files
        the surface received (`received`, e.g. in Gradio's upload folder, not symlinks); any other path
        refuses the whole batch."""
        refused = [Path(f).name for f in files if not received(Path(f))]
        if refused:
            raise Invalid(f"Not an uploaded file: {', '.join(refused)}. Nothing was ingested.")
        kept = []
        for f in files:
            dest = self.upload_folder() / Path(f).name
            shutil.copyfile(f, dest)
            kept.append(dest)
        return self.ingest(kept, actor, publish=publish)

    def ingest(self, paths: list[Path], actor: str, publish: bool = True) -> dict[str, Any]:
        """Ingest files already in KB/uploads/ (published unless `publish` is false); the report as a dict."""
        kept = list(paths)
        with self.lock:
            try:
                report = self.kb.ingest(kept, publish=publish, actor=actor)  # type: ignore[call-arg]
            except TypeError:  # a knowledge package without drafts: ingest is live at once
                report = self.kb.ingest(kept)
        out = {k: getattr(report, k, 0) for k in ("added", "updated", "unchanged", "removed", "chunks")}
        out["version"] = getattr(report, "version", None)
        out["errors"] = [{"file": Path(e["path"]).name, "error": e["error"]} for e in report.errors]
        return out

    def upload_folder(self) -> Path:
        """KB/uploads/, where uploaded files are kept (their sources stay readable)."""
        target = Path(self.kb.path) / "uploads"
        target.mkdir(parents=True, exist_ok=True)
        return target

    # -- the REST API's finer steps (same lock, same errors) -----------------------------------------
    def overview(self) -> dict[str, Any]:
        """The draft's documents (with `change` against live and `needs_update`), the pending changes, the
        items marked "needs update" and the live version."""
        with self.lock:
            marked = self.kb.needs_update()
            flagged = {r["id"] for r in marked if r["kind"] == DOCUMENT}
            return {
                "documents": [{**d, "needs_update": d["id"] in flagged} for d in self.kb.documents()],
                "changes": self.kb.draft_changes(),
                "needs_update": marked,
                "live_version": self.kb.stats()["version"],
            }

    def document(self, doc_id: str) -> dict[str, Any]:
        """One draft document with its text (or its templates) and, for a document, its `needs_update` mark
        and `twins`; NotFound if there is none."""
        with self.lock:
            found = self.kb.document(doc_id)
            if found is not None and found.get("kind") == DOCUMENT:
                status = self.kb.twin_status(DOCUMENT, found["id"])
                found = {**found, "needs_update": status["needs_update"], "twins": status["twins"]}
        if found is None:
            raise NotFound(f"no document {doc_id!r}")
        return found

    def template(self, template_id: str) -> dict[str, Any]:
        """One draft template with its `needs_update` mark and `twins`; NotFound if there is none."""
        with self.lock:
            found = {t.id: t for t in self.kb.templates(draft=True)}.get(template_id)
            if found is None:
                raise NotFound(f"no template {template_id!r}")
            status = self.kb.twin_status(TEMPLATE, template_id)
        return {**found.__dict__, "needs_update": status["needs_update"], "twins": status["twins"]}

    def edit_document(self, doc_id: str, text: str, actor: str, title: str | None = None) -> dict[str, Any]:
        """Replace a document's text in the draft."""
        try:
            with self.lock:
                return self.kb.edit_document(doc_id, text, actor, title=title)
        except (KeyError, ValueError) as exc:
            raise _translated(exc) from None

    def delete(self, target: str, actor: str) -> dict[str, Any]:
        """Remove a document (or a template, by its id) from the draft."""
        try:
            with self.lock:
                return self.kb.delete(target, actor)
        except KeyError as exc:
            raise _translated(exc) from None

    def template_rows(self, draft: bool = False) -> list[Template]:
        """Live answer templates, or the draft's."""
        with self.lock:
            return list(self.kb.templates(draft=draft))

    def upsert_template(self, template: Template, actor: str) -> dict[str, Any]:
        """Add or replace an answer template in the draft."""
        try:
            with self.lock:
                return self.kb.upsert_template(template, actor)
        except (KeyError, ValueError) as exc:
            raise _translated(exc) from None

    def search(
        self, query: str, k: int = 5, language: str | None = None, kinds: set[str] | None = None
    ) -> list[Any]:
        """Search the live version the way the assistant does."""
        with self.lock:
            return self.kb.search(query, k=k, language=language, kinds=kinds)


def _message(exc: BaseException) -> str:
    return str(exc.args[0]) if exc.args else type(exc).__name__


def _translated(exc: BaseException) -> OperationError:
    """The knowledge package's error as an operation error (same message)."""
    if isinstance(exc, NothingToPublish):
        return Conflict(_message(exc))
    if isinstance(exc, KeyError):  # UnknownVersion, an unknown document or template
        return NotFound(_message(exc))
    return Invalid(_message(exc))
