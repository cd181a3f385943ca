"""A `KnowledgeBase` shared by threads needs no lock of the caller's: searches, edits, ingests and publishes
from several threads at once, on real SQLite + embedded Chroma."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path

from knowledge import Embedder, KnowledgeBase
from knowledge.versions import NothingToPublish

from .conftest import write_corpus

ROUNDS = 6
SHIPPING = "# Shipping\n\nRound {i}: parcels travel by drone to the Mars colony within {i} days.\n"
GIFT = {"id": "gift-en", "intent": "gift_cards", "language": "en", "title": "Gift cards"}


def _publish(kb: KnowledgeBase, actor: str) -> None:
    with contextlib.suppress(NothingToPublish):  # the other writer's publish may have taken ours along
        kb.publish(actor)


def _run(workers: list[Callable[[], None]], searchers: list[Callable[[], None]]) -> list[BaseException]:
    """Run the writers to the end while the searchers loop; every exception any thread raised."""
    errors: list[BaseException] = []
    done = threading.Event()

    def guarded(fn: Callable[[], None], loop: bool) -> Callable[[], None]:
        def run() -> None:
            try:
                while True:
                    fn()
                    if not loop or done.is_set():
                        return
            except BaseException as exc:  # reported by the test
                errors.append(exc)

        return run

    writers = [threading.Thread(target=guarded(w, loop=False)) for w in workers]
    readers = [threading.Thread(target=guarded(s, loop=True)) for s in searchers]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join(timeout=300)
    done.set()
    for t in readers:
        t.join(timeout=60)
    return errors


def test_searches_edits_and_ingests_from_many_threads_need_no_outside_lock(
    tmp_path: Path, minilm: Embedder
) -> None:
    docs = write_corpus(tmp_path / "docs")
    kb = KnowledgeBase(tmp_path / "kb", embedder=minilm, multilingual=False)
    kb.ingest([docs], actor="setup")
    shipping = next(d["id"] for d in kb.documents() if d["uri"].endswith("shipping.md"))
    extra = tmp_path / "extra"
    extra.mkdir()
    searches = [0]

    def edit_shipping() -> None:  # writer 1: document edits, each published
        for i in range(1, ROUNDS + 1):
            kb.edit_document(shipping, SHIPPING.format(i=i), actor="editor")
            _publish(kb, "editor")

    def templates_and_files() -> None:  # writer 2: template upserts and deletes, files ingested and removed
        for i in range(1, ROUNDS + 1):
            kb.upsert_template({**GIFT, "answer": f"Gift cards bought in round {i} never expire."}, "curator")
            _publish(kb, "curator")
            (extra / f"lamp-{i}.md").write_text(
                f"# Lamp {i}\n\nThe lighthouse lamp model {i} takes an E27 bulb of at most 60 W.\n",
                encoding="utf-8",
            )
            if i > 1:
                (extra / f"lamp-{i - 1}.md").unlink()
            kb.ingest([extra], actor="curator")  # adds lamp i, removes lamp i-1, publishes
            if i < ROUNDS:
                kb.delete("gift-en", actor="curator")
                _publish(kb, "curator")

    def search() -> None:  # the untouched returns policy is found every time, whatever else is going on
        hits = kb.search("return items within 30 days for a full refund", k=3)
        assert hits and Path(hits[0].uri).name == "returns.md" and "30 days" in hits[0].text
        assert all(0.0 <= h.score <= 1.0 and h.title for h in hits)
        assert len(kb.templates(intent="gift_cards")) <= 1
        assert kb.get_template("greeting-en") is not None and set(kb.slots()) == {"name", "order_id"}
        searches[0] += 1

    errors = _run([edit_shipping, templates_and_files], [search, search, search])
    assert errors == [], errors
    assert searches[0] > 0

    _publish(kb, "final")
    assert kb.draft_changes() == []
    text = kb.document(shipping)["text"]
    assert f"Round {ROUNDS}:" in text
    assert (
        f"Round {ROUNDS}:" in kb.search("how many days does the drone take to the Mars colony?", k=1)[0].text
    )
    [gift] = kb.templates(intent="gift_cards")
    assert gift.answer == f"Gift cards bought in round {ROUNDS} never expire."
    lamps = sorted(Path(d["uri"]).name for d in kb.documents() if "lamp-" in d["uri"])
    assert lamps == [f"lamp-{ROUNDS}.md"]
    assert Path(kb.search("which bulb does the lighthouse lamp take?", k=1)[0].uri).name == lamps[0]
    # Chroma's live flags agree with SQLite: exactly the live version's searchable units are flagged live.
    live = {i for i, flag in kb.vectors.live_flags().items() if flag}
    assert live == {i for i, u in kb.live_units().items() if u["kind"] != "slot"}
