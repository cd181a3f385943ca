"""`KnowledgeBase`: ingestion into SQLite + Chroma and calibrated hybrid search."""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path

import numpy as np

from knowledge.chunking import MarkdownChunker
from knowledge.embedders import Embedder, make_embedder
from knowledge.fusion import HybridScorer
from knowledge.language import UNKNOWN, detect_language
from knowledge.readers import MAX_BYTES, ReadError, is_document_file, is_templates_file, read_document
from knowledge.store import Store
from knowledge.template_files import read_templates
from knowledge.types import Hit, IngestReport, Template
from knowledge.vectors import VectorIndex

DEFAULT_EMBEDDER = "minilm"
DEFAULT_MIN_SCORE = 0.35
SNIPPET_CHARS = 240


def _sha(data: bytes | str) -> str:
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1].rsplit(" ", 1)[0] + "…"


class KnowledgeBase:
    """Documents and answer templates in `path` (SQLite `kb.db` + Chroma `chroma/`), searched hybridly."""

    def __init__(
        self,
        path: Path,
        embedder: Embedder | None = None,
        chroma_url: str | None = None,
        min_score: float = DEFAULT_MIN_SCORE,
    ) -> None:
        self.path = Path(path)
        self.embedder = embedder if embedder is not None else make_embedder(DEFAULT_EMBEDDER)
        self.chroma_url = chroma_url
        self.min_score = min_score
        self.chunker = MarkdownChunker()
        lo, hi = getattr(self.embedder, "score_range", (0.15, 0.70))
        self.scorer = HybridScorer(lo=lo, hi=hi)
        self._store: Store | None = None
        self._vectors: VectorIndex | None = None
        self._synced = False

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        if self._store is None:
            self.path.mkdir(parents=True, exist_ok=True)
            self._store = Store(self.path / "kb.db")
        return self._store

    @property
    def vectors(self) -> VectorIndex:
        if self._vectors is None:
            self.embedder.warm_up()
            name = f"lepton-{self.embedder.name}-{self.embedder.dim}"
            self._vectors = VectorIndex(self.path / "chroma", self.chroma_url, name)
            self._vectors.open()
        return self._vectors

    def warm_up(self) -> None:
        """Load the embedder, open SQLite and Chroma, and bring Chroma in sync with SQLite."""
        self.embedder.warm_up()
        _ = self.store
        if not self._synced:
            self._sync()
            self._synced = True

    def _sync(self) -> None:
        have = self.vectors.ids()
        units = self.store.units()
        self.vectors.delete(sorted(have - set(units)))
        missing = [units[i] for i in units if i not in have]
        if missing:
            self._embed_and_upsert(missing)

    def reindex(self) -> int:
        """Rebuild the Chroma collection from SQLite (e.g. after changing embedder); returns unit count."""
        self.vectors.reset()
        units = list(self.store.units().values())
        self._embed_and_upsert(units)
        return len(units)

    def _embed_and_upsert(self, units: list[dict], vectors: np.ndarray | None = None) -> None:
        if not units:
            return
        if vectors is None:
            vectors = self.embedder.embed_passages([_embed_text(u) for u in units])
        meta = [{"kind": u["kind"], "language": u["language"], "doc_id": u["doc_id"]} for u in units]
        self.vectors.upsert([u["id"] for u in units], vectors, meta)

    # -- ingestion -------------------------------------------------------------------------------
    def ingest(self, paths: list[Path], *, progress: bool = False) -> IngestReport:
        """Ingest files and folders; unchanged files (same content hash) are skipped, deleted ones removed."""
        report = IngestReport()
        files: list[Path] = []
        folders: list[Path] = []
        for raw in paths:
            p = Path(raw).expanduser().resolve()
            if p.is_dir():
                folders.append(p)
                files.extend(_walk(p))
            elif p.is_file():
                if is_document_file(p) or is_templates_file(p):
                    files.append(p)
                else:
                    report.errors.append({"path": str(p), "error": f"unsupported file type {p.suffix or '(none)'}"})
            else:
                report.errors.append({"path": str(p), "error": "file not found"})
        files = list(dict.fromkeys(files))
        self.warm_up()
        iterator = files
        if progress:
            from tqdm import tqdm

            iterator = tqdm(files, desc="Ingesting", unit="file")
        for f in iterator:
            try:
                status, n = self._ingest_file(f, report)
            except ReadError as exc:
                report.errors.append({"path": str(f), "error": str(exc)})
                continue
            except Exception as exc:  # a broken file must not stop the rest
                report.errors.append({"path": str(f), "error": f"{type(exc).__name__}: {exc}"})
                continue
            setattr(report, status, getattr(report, status) + 1)
            report.chunks += n
        seen = {str(f) for f in files}
        for doc in self.store.documents():
            uri = doc["uri"]
            if uri in seen or "://" in uri:
                continue
            if any(uri.startswith(str(folder) + os.sep) for folder in folders) and not Path(uri).exists():
                self.vectors.delete(self.store.unit_ids(doc["id"]))
                self.store.delete_document(doc["id"])
                report.removed += 1
        return report

    def _ingest_file(self, path: Path, report: IngestReport) -> tuple[str, int]:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ReadError(f"file too large ({size / 1e6:.1f} MB > {MAX_BYTES // (1024 * 1024)} MB)")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ReadError(f"unreadable: {exc.strerror or exc}") from exc
        uri = str(path)
        digest = _sha(data)
        old = self.store.document_by_uri(uri)
        if old is not None and old["hash"] == digest:
            return "unchanged", 0
        doc_id = _sha(uri)[:16]
        templates: list[Template] = []
        if is_templates_file(path):
            templates, problems = read_templates(data, path)
            report.errors.extend({"path": uri, "error": p} for p in problems)
            units = [_template_unit(doc_id, t) for t in templates]
            doc = {"id": doc_id, "uri": uri, "kind": "templates", "title": path.stem, "tags": "[]",
                   "language": _majority([t.language for t in templates])}
        else:
            parsed = read_document(data, path)
            chunks = self.chunker.chunk(parsed.text, markdown=parsed.markdown)
            if not chunks:
                raise ReadError("no text content")
            langs = [parsed.language or detect_language(f"{c.heading}\n{c.text}") for c in chunks]
            doc_lang = parsed.language or _majority(langs)
            langs = [doc_lang if lang == UNKNOWN else lang for lang in langs]
            tags = json.dumps(parsed.tags, ensure_ascii=False)
            units = [
                {"id": f"{doc_id}-{i:04d}", "doc_id": doc_id, "kind": "document", "ord": i, "title": parsed.title,
                 "heading": c.heading, "text": c.text, "language": lang, "tags": tags, "intent": None,
                 "uri": uri, "ref": None}
                for i, (c, lang) in enumerate(zip(chunks, langs, strict=True))
            ]
            doc = {"id": doc_id, "uri": uri, "kind": "document", "title": parsed.title, "language": doc_lang,
                   "tags": tags}
        vectors = self.embedder.embed_passages([_embed_text(u) for u in units])
        old_ids = self.store.unit_ids(doc_id) if old is not None else []
        self.store.replace_document({**doc, "hash": digest, "size": len(data), "chunks": len(units)}, units, templates)
        self.vectors.delete(sorted(set(old_ids) - {u["id"] for u in units}))
        self._embed_and_upsert(units, vectors)
        return ("added" if old is None else "updated"), (len(units) if not templates else 0)

    # -- retrieval -------------------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int = 5,
        *,
        language: str | None = None,
        tags: list[str] | None = None,
        kinds: set[str] | None = None,
    ) -> list[Hit]:
        """Best-first hits with fused score >= `min_score` (language / tags / kinds filter the candidates)."""
        if not query.strip() or k <= 0:
            return []
        if not self._synced:
            self.warm_up()
        n = max(4 * k, 40) if not tags else max(20 * k, 200)
        where = _where(language, kinds)
        qvec = self.embedder.embed_queries([query])[0]
        dense = self.vectors.query(qvec, n, where)
        lexical = self.store.lexical(query, n, language, kinds)
        extra = [i for i in lexical if i not in dense]
        for i, vec in self.vectors.vectors(extra).items():
            dense[i] = float(vec @ qvec)
        units = self.store.units(list(set(dense) | set(lexical)))
        if tags:
            wanted = set(tags)
            units = {i: u for i, u in units.items() if wanted & set(u["tags"])}
        dense = {i: c for i, c in dense.items() if i in units}
        lexical = {i: s for i, s in lexical.items() if i in units}
        if self._dense_blind(query):
            scores = self.scorer.lexical_only(query, lexical, units)
        else:
            scores = self.scorer.fuse(dense, lexical)
        ranked = sorted((i for i in scores if scores[i] >= self.min_score), key=lambda i: -scores[i])[:k]
        return [_hit(units[i], scores[i]) for i in ranked]

    def _dense_blind(self, query: str) -> bool:
        """True when the embedder does not cover the query's language (e.g. MiniLM and Chinese)."""
        supported = getattr(self.embedder, "languages", None)
        return supported is not None and detect_language(query) not in supported

    def templates(self, intent: str | None = None, language: str | None = None) -> list[Template]:
        return self.store.templates(intent, language)

    def get_template(self, template_id: str) -> Template | None:
        return self.store.template(template_id)

    def stats(self) -> dict:
        return {**self.store.counts(), "version": self.store.version()}


def _walk(folder: Path) -> list[Path]:
    out = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            p = Path(root) / name
            if not name.startswith(".") and (is_document_file(p) or is_templates_file(p)):
                out.append(p)
    return out


def _majority(values: list[str]) -> str:
    known = [v for v in values if v and v != UNKNOWN]
    return Counter(known).most_common(1)[0][0] if known else UNKNOWN


def _template_unit(doc_id: str, t: Template) -> dict:
    return {"id": f"tpl:{t.id}", "doc_id": doc_id, "kind": "template", "ord": 0, "title": t.title, "heading": "",
            "text": t.answer, "language": t.language, "tags": "[]", "intent": t.intent,
            "uri": f"template:{t.id}", "ref": t.id}


def _embed_text(unit: dict) -> str:
    head = unit["title"]
    if unit["heading"]:
        head += " — " + unit["heading"]
    return f"{head}\n{unit['text']}"


def _where(language: str | None, kinds: set[str] | None) -> dict | None:
    conds: list[dict] = []
    if language:
        conds.append({"language": language})
    if kinds:
        conds.append({"kind": {"$in": sorted(kinds)}})
    if not conds:
        return None
    return conds[0] if len(conds) == 1 else {"$and": conds}


def _hit(u: dict, score: float) -> Hit:
    return Hit(
        id=u["ref"] if u["kind"] == "template" else u["id"],
        kind=u["kind"],
        title=u["title"],
        uri=u["uri"],
        snippet=_snippet(u["text"]),
        text=u["text"],
        score=round(float(score), 4),
        language=u["language"],
        intent=u["intent"],
        heading=u["heading"],
        tags=list(u["tags"]),
    )
