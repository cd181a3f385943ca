"""`Ingestion`: files and folders read, chunked, embedded and staged into a knowledge base's draft."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from knowledge.curation import Curation
from knowledge.readers import MAX_BYTES, ReadError, is_document_file, is_templates_file, read_document
from knowledge.template_files import read_template_file
from knowledge.types import IngestReport, Template
from knowledge.unit_rows import document_units, majority, sha, slot_unit, template_unit

# Files read, chunked and embedded together by ingest (bounds memory; a batch's files share their fate
# only if the embedder itself fails).
INGEST_BATCH_FILES = 64


class Ingestion:
    """One ingest run over a knowledge base's curation (its store, vectors and chunker)."""

    def __init__(self, curation: Curation) -> None:
        self.curation = curation
        self.store = curation.store
        self.vector_sync = curation.vector_sync
        self.declared: set[str] = set()  # slot names the files of this run declare

    def run(self, paths: list[Path], *, progress: bool, publish: bool, actor: str) -> IngestReport:
        """Ingest files and folders; unchanged files (same content hash) are skipped, deleted ones removed.

        Each file is staged in the draft in its own transaction; with `publish` the draft is then
        published, so an interrupted ingest leaves the last published version live and searchable.
        """
        report = IngestReport()
        files: list[Path] = []
        folders: list[Path] = []
        roots: dict[Path, Path] = {}  # file -> the folder it was found in (its public path is relative to it)
        for raw in paths:
            p = Path(raw).expanduser().resolve()
            if p.is_dir():
                folders.append(p)
                found = _walk(p)
                files.extend(found)
                roots.update((f, p) for f in found if f not in roots)
            elif p.is_file():
                if is_document_file(p) or is_templates_file(p):
                    files.append(p)
                else:
                    report.errors.append(
                        {"path": str(p), "error": f"unsupported file type {p.suffix or '(none)'}"}
                    )
            else:
                report.errors.append({"path": str(p), "error": "file not found"})
        files = list(dict.fromkeys(files))
        self.declared = _declared_in(files)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(files), desc="Ingesting", unit="file")
        self.vector_sync.bulk = True
        try:
            for start in range(0, len(files), INGEST_BATCH_FILES):
                self._batch(files[start : start + INGEST_BATCH_FILES], report, actor, roots)
                if bar is not None:
                    bar.update(min(INGEST_BATCH_FILES, len(files) - start))
        finally:
            self.vector_sync.bulk = False
            self.vector_sync.release_passage_model(bulk_done=True)
        if bar is not None:
            bar.close()
        seen = {str(f) for f in files}
        for doc in self.store.documents():
            uri = doc["uri"]
            if uri in seen or "://" in uri:
                continue
            if any(uri.startswith(str(folder) + os.sep) for folder in folders) and not Path(uri).exists():
                self.store.unstage_document(doc["id"], actor, "remove")
                report.removed += 1
        if publish and self.store.log.changes():
            report.version = self.curation.publish(actor, note=f"ingest of {len(files)} file(s)")["version"]
        return report

    def _batch(self, files: list[Path], report: IngestReport, actor: str, roots: dict[Path, Path]) -> None:
        """Read and chunk `files`, embed all their new units in one batch, then stage each file on its own.

        One embedding call and one Chroma upsert per batch instead of per file: a file has only a few
        chunks, so per-file calls paid the model's and Chroma's fixed costs for every file (ingest ran at
        a third of the embedder's speed). SQLite still gets one transaction per file.
        """
        staged: list[tuple[Path, str, dict, list[dict], int]] = []
        for f in files:
            try:
                prepared = self._prepare_file(f, report, roots.get(f))
            except Exception as exc:  # a broken file must not stop the rest
                report.errors.append({"path": str(f), "error": _error(exc)})
                continue
            if prepared is None:
                report.unchanged += 1
            else:
                staged.append((f, *prepared))
        try:
            self.vector_sync.embed_new(self.store, [u for *_, units, _ in staged for u in units])
        except Exception as exc:  # e.g. a remote embedder that is down: every file of the batch failed
            report.errors.extend({"path": str(f), "error": _error(exc)} for f, *_ in staged)
            return
        for f, status, doc, units, n in staged:
            try:
                detail = {"status": status, "chunks": len(units)}
                self.curation.stage(doc, units, actor, "ingest", detail, embedded=True)
            except Exception as exc:
                report.errors.append({"path": str(f), "error": _error(exc)})
                continue
            setattr(report, status, getattr(report, status) + 1)
            report.chunks += n

    def _prepare_file(
        self, path: Path, report: IngestReport, root: Path | None = None
    ) -> tuple[str, dict, list[dict], int] | None:
        """(status, document row, units, document chunks) for a new or changed file; None if unchanged.

        `root`: the folder the file was found in; its public path is relative to it (a file named on its
        own keeps the path it had, else its name)."""
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ReadError(f"file too large ({size / 1e6:.1f} MB > {MAX_BYTES // (1024 * 1024)} MB)")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ReadError(f"unreadable: {exc.strerror or exc}") from exc
        uri = str(path)
        digest = sha(data)
        old = self.store.document_by_uri(uri)
        templates_file = is_templates_file(path)
        stored_path, _ = self.store.document_public(old["id"]) if old is not None else (None, None)
        public_path = path.relative_to(root).as_posix() if root is not None else stored_path or path.name
        # Unchanged, unless a document has no public path yet (stored before there was one) or a new one;
        # an edited document keeps its edit until its file changes.
        same_path = templates_file or stored_path == public_path or old is not None and old["updated_at"]
        if old is not None and old["hash"] == digest and same_path:
            return None
        doc_id = sha(uri)[:16]
        templates: list[Template] = []
        if templates_file:
            elsewhere = self.store.slot_declarations(draft=True, exclude_doc=doc_id)
            templates, slots, problems = read_template_file(data, path, self.declared | set(elsewhere))
            problems += [
                f"slot {name} is also declared in another templates file, differently (which one applies "
                "is undefined: declare it once)"
                for name, slot in slots.items()
                if name in elsewhere and elsewhere[name] != slot.to_json()
            ]
            report.errors.extend({"path": uri, "error": p} for p in problems)
            units = [template_unit(doc_id, t) for t in templates]
            units += [slot_unit(doc_id, slot) for slot in slots.values()]
            doc = {
                "id": doc_id,
                "uri": uri,
                "kind": "templates",
                "title": path.stem,
                "tags": "[]",
                "language": majority([t.language for t in templates]),
                "body": None,
            }
        else:
            parsed = read_document(data, path)
            tags = json.dumps(parsed.tags, ensure_ascii=False)
            units = document_units(
                self.curation.chunker,
                doc_id,
                uri,
                parsed.title,
                parsed.text,
                parsed.markdown,
                parsed.language,
                tags,
                public=(public_path, parsed.url),
            )
            if not units:
                raise ReadError("no text content")
            doc = {
                "id": doc_id,
                "uri": uri,
                "kind": "document",
                "title": parsed.title,
                "language": parsed.language or majority([u["language"] for u in units]),
                "tags": tags,
                "body": parsed.text,
            }
        status = "added" if old is None else "updated"
        doc = {
            **doc,
            "hash": digest,
            "size": len(data),
            "chunks": len(units),
            "ingested_at": time.time(),
            "updated_at": None,
            "updated_by": None,
        }
        return status, doc, units, (len(units) if not templates else 0)


def _error(exc: Exception) -> str:
    return str(exc) if isinstance(exc, ReadError) else f"{type(exc).__name__}: {exc}"


def _walk(folder: Path) -> list[Path]:
    out = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            p = Path(root) / name
            if not name.startswith(".") and (is_document_file(p) or is_templates_file(p)):
                out.append(p)
    return out


def _declared_in(files: list[Path]) -> set[str]:
    """Slot names the templates files among `files` declare (their errors are reported when each is read)."""
    names: set[str] = set()
    for f in files:
        if is_templates_file(f) and f.suffix.lower() != ".csv":
            try:
                names |= set(read_template_file(f.read_bytes(), f)[1])
            except (OSError, ReadError):
                continue
    return names
