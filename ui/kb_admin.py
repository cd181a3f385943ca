"""Knowledge-base curation for the admin console, over the knowledge base's own curation API.

`KnowledgeBase` keeps one draft for the whole knowledge base: edits (`edit_document`, `upsert_template`) and
uploads land in the draft, `publish(actor, note)` makes the whole draft live as version N+1, `rollback(version,
actor)` makes an earlier version live again (and resets the draft to it), and `audit()` lists every change
(see knowledge/curation.py). This adapter gives the console one small surface over it and turns the knowledge
package's errors into `CurationError`; when a method is missing (an older knowledge package), the matching
action says so instead of breaking the page.
"""

from __future__ import annotations

import shutil
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from knowledge import KnowledgeBase, Template
from ui.http.gradio_guard import is_received_upload

TEMPLATE, DOCUMENT = "template", "document"


class CurationError(ValueError):
    """Something the admin asked for that cannot be done (unknown item, nothing to publish...)."""


class KnowledgeCuration:
    """Browse, edit, publish, roll back and audit one `KnowledgeBase` (`lock` is the assistant's KB lock)."""

    def __init__(self, kb: KnowledgeBase, lock: AbstractContextManager[Any] | None = None) -> None:
        self.kb = kb
        self.lock: AbstractContextManager[Any] = lock or nullcontext()

    def _native(self, name: str) -> Any:
        fn = getattr(self.kb, name, None)
        if not callable(fn):
            raise CurationError(
                f"this knowledge base has no {name}() yet (knowledge package without curation)"
            )
        return fn

    def has(self, name: str) -> bool:
        return callable(getattr(self.kb, name, None))

    # -- browsing (the draft, which is what an editor works on) -----------------------------------
    def templates(self) -> list[Template]:
        try:
            return self.kb.store.templates(draft=True)  # type: ignore[call-arg]
        except TypeError:  # a store without drafts
            return self.kb.templates()

    def live_templates(self) -> dict[str, Template]:
        return {t.id: t for t in self.kb.templates()}

    def documents(self) -> list[dict[str, Any]]:
        rows = self.kb.documents() if self.has("documents") else self.kb.store.documents()
        docs = [r for r in rows if r.get("kind") == DOCUMENT]
        return sorted(docs, key=lambda r: (r.get("language") or "", r.get("title") or ""))

    def changes(self) -> list[dict[str, Any]]:
        return list(self.kb.draft_changes()) if self.has("draft_changes") else []

    def versions(self) -> list[dict[str, Any]]:
        return list(self.kb.versions()) if self.has("versions") else []

    def live_version(self) -> int | None:
        live = [v["version"] for v in self.versions() if v.get("live")]
        return live[0] if live else None

    def audit(self, limit: int = 200) -> list[dict[str, Any]]:
        return list(self.kb.audit(limit=limit)) if self.has("audit") else []

    def open(self, kind: str, target_id: str) -> dict[str, Any]:
        """The draft of one item: {title, body, language, intent (templates), changed (vs live)}."""
        if kind == TEMPLATE:
            draft = {t.id: t for t in self.templates()}.get(target_id)
            if draft is None:
                raise CurationError(f"no template {target_id!r}")
            live = self.live_templates().get(target_id)
            return {
                "title": draft.title,
                "body": draft.answer,
                "language": draft.language,
                "intent": draft.intent,
                "changed": live is None or (live.title, live.answer) != (draft.title, draft.answer),
            }
        doc = self._native("document")(target_id)
        if doc is None or doc.get("kind") != DOCUMENT:
            raise CurationError(f"no document {target_id!r}")
        changed = any(c["id"] == doc["id"] for c in self.changes())
        return {
            "title": doc.get("title") or "",
            "body": doc.get("text") or "",
            "language": doc.get("language"),
            "intent": None,
            "changed": changed,
            "uri": doc.get("uri"),
        }

    # -- editing ---------------------------------------------------------------------------------
    def save_draft(self, kind: str, target_id: str, title: str, body: str, actor: str) -> None:
        if not body.strip():
            raise CurationError("the text is empty")
        try:
            with self.lock:
                if kind == TEMPLATE:
                    current = {t.id: t for t in self.templates()}.get(target_id)
                    if current is None:
                        raise CurationError(f"no template {target_id!r}")
                    self._native("upsert_template")(
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
                    self._native("edit_document")(target_id, body, actor, title=title.strip() or None)
        except (KeyError, ValueError) as exc:
            raise CurationError(_message(exc)) from None

    def publish(self, actor: str, note: str = "") -> dict[str, Any]:
        """Make the whole draft live; returns the new version row."""
        try:
            with self.lock:
                return self._native("publish")(actor, note=note)
        except (KeyError, ValueError) as exc:  # NothingToPublish is a ValueError
            raise CurationError(_message(exc)) from None

    def rollback(self, version: int, actor: str) -> dict[str, Any]:
        try:
            with self.lock:
                return self._native("rollback")(int(version), actor)
        except (KeyError, ValueError) as exc:  # UnknownVersion is a KeyError
            raise CurationError(_message(exc)) from None

    def discard_draft(self, actor: str) -> dict[str, Any]:
        """Drop every unpublished change: the live version again, as the draft."""
        live = self.live_version()
        if live is None:
            raise CurationError("nothing has been published yet")
        if not self.changes():
            raise CurationError("the draft has no unpublished changes")
        return self.rollback(live, actor)

    def ingest_uploads(self, files: list[Path], actor: str, publish: bool = True) -> dict[str, Any]:
        """Copy uploaded files into KB/uploads/ (so their sources stay readable) and ingest them: only files
        Gradio received (in its upload folder, not symlinks); any other path refuses the whole batch."""
        refused = [Path(f).name for f in files if not is_received_upload(f)]
        if refused:
            raise CurationError(f"Not an uploaded file: {', '.join(refused)}. Nothing was ingested.")
        target = Path(self.kb.path) / "uploads"
        target.mkdir(parents=True, exist_ok=True)
        kept = []
        for f in files:
            dest = target / Path(f).name
            shutil.copyfile(f, dest)
            kept.append(dest)
        with self.lock:
            try:
                report = self.kb.ingest(kept, publish=publish, actor=actor)  # type: ignore[call-arg]
            except TypeError:  # a knowledge package without drafts: ingest is live at once
                report = self.kb.ingest(kept)
        out = {k: getattr(report, k, 0) for k in ("added", "updated", "unchanged", "removed", "chunks")}
        out["version"] = getattr(report, "version", None)
        out["errors"] = [{"file": Path(e["path"]).name, "error": e["error"]} for e in report.errors]
        return out


def _message(exc: BaseException) -> str:
    return str(exc.args[0]) if exc.args else type(exc).__name__
