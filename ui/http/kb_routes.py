"""Admin HTTP API of the knowledge base under /v1/admin/kb: browse, edit the draft, publish, roll back, audit,
search and upload; an item's other-language twins and "needs update" marks, and confirming one still right. Every change is audited under the admin key's name. A thin adapter over the curation
operations the console uses too (assistant/operations/curation_ops.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from assistant.keys import KeyInfo
from assistant.operations import Conflict, Invalid, NotFound, operations_for
from assistant.operations.curation_ops import KnowledgeCuration
from assistant.pipeline import Assistant
from assistant.schema import ErrorResponse
from knowledge import Template
from knowledge.readers import MAX_BYTES, is_document_file, is_templates_file
from ui.http.security import ADMIN_PREFIX, require_admin

MAX_UPLOAD_FILES = 20
_SAFE_NAME = re.compile(r"^[\w\u00a0-\uffff][\w\u00a0-\uffff .()+-]{0,150}$")


class DocumentEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: StrictStr = Field(min_length=1, max_length=2_000_000)
    title: StrictStr | None = Field(default=None, max_length=300)


class TemplateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    intent: StrictStr = Field(min_length=1, max_length=120)
    language: StrictStr = Field(min_length=2, max_length=12)
    title: StrictStr = Field(min_length=1, max_length=300)
    answer: StrictStr = Field(min_length=1, max_length=20_000)


class PublishBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: StrictStr = Field(default="", max_length=500)


class RollbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1)


def _problem(status: int, code: str, message: str) -> HTTPException:
    return HTTPException(status, {"code": code, "message": message})


def actor_of(info: KeyInfo) -> str:
    """How an admin key appears in the audit log."""
    return f"admin:{info.name or info.id}"


def safe_upload_name(name: str | None) -> str:
    """The file name to store an upload under; 400 for empty names, paths and hidden or odd names."""
    raw = (name or "").strip()
    if not raw or "/" in raw or "\\" in raw or raw in (".", "..") or ".." in raw or "\x00" in raw:
        raise _problem(400, "invalid_file_name", f"Not a plain file name: {raw[:80]!r}.")
    if not _SAFE_NAME.match(raw):
        raise _problem(
            400, "invalid_file_name", f"Use letters, digits, spaces and . _ - ( ) + only: {raw[:80]!r}."
        )
    if not (is_document_file(Path(raw)) or is_templates_file(Path(raw))):
        raise _problem(
            415,
            "unsupported_type",
            f"{raw}: documents .md .txt .html .pdf .docx or templates*.csv/json/yaml.",
        )
    return raw


def kb_admin_router(assistant: Assistant) -> APIRouter:
    """The /v1/admin/kb routes over the assistant's knowledge base (changes serialized with the console's)."""
    errors = {k: {"model": ErrorResponse} for k in (400, 401, 403, 404, 409, 413, 415)}
    router = APIRouter(
        prefix=f"{ADMIN_PREFIX}/kb",
        tags=["admin: knowledge base"],
        dependencies=[Depends(require_admin)],
        responses=errors,
    )
    ops = operations_for(assistant)

    def kb() -> KnowledgeCuration:
        return ops.curation()  # NotReady (503) while the knowledge base loads

    @router.get("/documents")
    def documents() -> dict[str, Any]:
        """The draft's documents (with `change` against the live version) and the draft's pending changes."""
        return kb().overview()

    @router.get("/documents/{doc_id}")
    def document(doc_id: str) -> dict[str, Any]:
        """One draft document with its text (or its templates); a document also with `needs_update` (the
        mark an edit of a twin left: source, by, at, changed, diff; or null) and `twins` (the same document
        in other languages, each with its mark)."""
        try:
            return kb().document(doc_id)
        except NotFound:
            raise _problem(404, "not_found", "No such document.") from None

    @router.post("/documents/{doc_id}/confirm")
    def confirm_document(doc_id: str, info: KeyInfo = Depends(require_admin)) -> dict[str, Any]:
        """Say a document is still right although a twin changed: its "needs update" mark goes (audited)."""
        try:
            return kb().confirm("document", doc_id, actor_of(info))
        except NotFound:
            raise _problem(404, "not_found", "No such document.") from None

    @router.put("/documents/{doc_id}")
    def edit_document(
        doc_id: str, body: DocumentEdit, info: KeyInfo = Depends(require_admin)
    ) -> dict[str, Any]:
        """Replace a document's text in the draft (publish to make it live)."""
        try:
            return kb().edit_document(doc_id, body.text, actor_of(info), title=body.title)
        except NotFound:
            raise _problem(404, "not_found", "No such document.") from None
        except (Invalid, Conflict) as exc:
            raise _problem(400, "invalid_edit", str(exc)) from None

    @router.delete("/documents/{target}")
    def delete(target: str, info: KeyInfo = Depends(require_admin)) -> dict[str, Any]:
        """Remove a document (or a template, by its id) from the draft."""
        try:
            return kb().delete(target, actor_of(info))
        except NotFound:
            raise _problem(404, "not_found", "No such document or template.") from None

    @router.get("/templates")
    def templates(draft: bool = False) -> dict[str, Any]:
        """Live answer templates (or the draft's with ?draft=true); `needs_update` when a twin (the same
        intent in another language) was edited since."""
        c = kb()
        marked = {i for k, i in c.needs_update() if k == "template"}
        return {
            "templates": [
                {**t.__dict__, "needs_update": t.id in marked} for t in c.template_rows(draft=draft)
            ]
        }

    @router.get("/templates/{template_id}")
    def template(template_id: str) -> dict[str, Any]:
        """One draft template with `needs_update` (its mark or null) and `twins` (the same intent in the
        other languages, each with its mark)."""
        try:
            return kb().template(template_id)
        except NotFound:
            raise _problem(404, "not_found", "No such template.") from None

    @router.post("/templates/{template_id}/confirm")
    def confirm_template(template_id: str, info: KeyInfo = Depends(require_admin)) -> dict[str, Any]:
        """Say a template is still right although a twin changed: its "needs update" mark goes (audited). 400
        for a template held for translation (it was written from another language's text)."""
        try:
            return kb().confirm("template", template_id, actor_of(info))
        except NotFound:
            raise _problem(404, "not_found", "No such template.") from None
        except Invalid as exc:
            raise _problem(400, "needs_translation", str(exc)) from None

    @router.put("/templates/{template_id}")
    def upsert_template(
        template_id: str, body: TemplateBody, info: KeyInfo = Depends(require_admin)
    ) -> dict[str, Any]:
        """Add or replace an answer template in the draft."""
        try:
            return kb().upsert_template(
                Template(template_id, body.intent, body.language, body.title, body.answer), actor_of(info)
            )
        except (Invalid, Conflict, NotFound) as exc:
            raise _problem(400, "invalid_template", str(exc)) from None

    @router.post("/publish")
    def publish(body: PublishBody | None = None, info: KeyInfo = Depends(require_admin)) -> dict[str, Any]:
        """Make the draft live as a new version (409 when there is nothing to publish)."""
        try:
            return kb().publish(actor_of(info), note=body.note if body else "")
        except Conflict as exc:
            raise _problem(409, "nothing_to_publish", str(exc)) from None

    @router.post("/rollback")
    def rollback(body: RollbackBody, info: KeyInfo = Depends(require_admin)) -> dict[str, Any]:
        """Make an earlier version live again (the draft is reset to it)."""
        try:
            return kb().rollback(body.version, actor_of(info))
        except NotFound:
            raise _problem(404, "not_found", f"No published version {body.version}.") from None

    @router.get("/versions")
    def versions() -> dict[str, Any]:
        """Published versions, newest first: `published_at`, `actor` (who published it), `summary` (the note,
        else what it changed: "3 documents, 1 template changed"), `changes`, counts; `live` marks the one
        serving."""
        return {"versions": kb().versions()}

    @router.get("/changes")
    def changes() -> dict[str, Any]:
        """What publishing the draft would change."""
        return {"changes": kb().changes()}

    @router.get("/audit")
    def audit(limit: int = 100) -> dict[str, Any]:
        """Who changed what, when (newest first)."""
        return {"entries": kb().audit(max(1, min(limit, 1000)))}

    @router.get("/search")
    def search(q: str, k: int = 5, language: str | None = None) -> dict[str, Any]:
        """Search the live version the way the assistant does."""
        hits = kb().search(q[:1000], k=max(1, min(k, 50)), language=language or None)
        return {
            "hits": [
                {
                    "id": h.id,
                    "kind": h.kind,
                    "title": h.title,
                    "uri": h.uri,
                    "score": h.score,
                    "language": h.language,
                    "snippet": h.snippet,
                }
                for h in hits
            ]
        }

    @router.post("/upload")
    async def upload(
        request: Request,
        files: list[UploadFile] = File(...),
        publish: bool = Form(True),
        info: KeyInfo = Depends(require_admin),
    ) -> dict[str, Any]:
        """Upload documents or template files into HOME/kb/uploads/ and ingest them (published unless
        publish=false). 400 for path-like names, 413 for files over the size limit, 415 for unknown types."""
        if len(files) > MAX_UPLOAD_FILES:
            raise _problem(400, "too_many_files", f"At most {MAX_UPLOAD_FILES} files per upload.")
        accepted: list[tuple[str, bytes]] = []
        for f in files:
            name = safe_upload_name(f.filename)
            data = await f.read(MAX_BYTES + 1)
            if len(data) > MAX_BYTES:
                raise _problem(
                    413, "file_too_large", f"{name} is larger than {MAX_BYTES // (1024 * 1024)} MB."
                )
            accepted.append((name, data))
        curation = kb()
        folder = curation.upload_folder()
        paths = []
        for name, data in accepted:
            dest = folder / name
            dest.write_bytes(data)
            paths.append(dest)
        actor = actor_of(info)

        def work() -> dict[str, Any]:
            report = curation.ingest(paths, actor, publish=publish)
            report.pop("removed", None)  # this route has always answered without it
            return report

        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(work)

    return router
