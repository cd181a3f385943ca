"""The review queue: one answer for a question asked many times, in one write."""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path

import pytest

from training.review import AlreadyReviewed, ReviewQueue


def test_items_count_pending_copies_and_same_text_resolves_them_together(
    database_url: str | None, tmp_path: Path
) -> None:
    q = ReviewQueue(tmp_path / "review.db", database_url=database_url)
    texts = [
        "Do you ship to Canada?",
        "do you ship to canada?  ",
        "Do you ship to Mexico?",
        "DO YOU SHIP TO CANADA?",
    ]
    predicted = ["shipping_countries", "out_of_scope", "shipping_countries", "shipping_countries"]
    for n, (text, guess) in enumerate(zip(texts, predicted, strict=True)):
        q.add(f"t{n}", text, "low_confidence", predicted=guess)
    ids = {i["turn_id"]: i["id"] for i in q.items()}
    assert {i["turn_id"]: i["copies"] for i in q.items()} == {"t0": 3, "t1": 3, "t2": 1, "t3": 3}

    q.resolve(ids["t3"], None)  # one copy discarded on its own first
    assert q.get(ids["t0"])["copies"] == 2
    done = q.resolve(ids["t0"], "shipping_countries", reviewer="erin", same_text=True)
    assert done["status"] == "confirmed" and done["also_resolved"] == 1
    # The copy is judged against its own prediction; the discarded one and the other question are untouched.
    assert q.get(ids["t1"])["status"] == "corrected" and q.get(ids["t1"])["label"] == "shipping_countries"
    assert q.get(ids["t1"])["reviewer"] == "erin"
    assert q.get(ids["t3"])["status"] == "discarded" and q.get(ids["t2"])["status"] == "pending"
    assert q.counts() == {"confirmed": 1, "corrected": 1, "discarded": 1, "pending": 1}
    # One training row per question, whatever the number of copies.
    texts, labels = q.training_examples()
    assert [t.strip().lower() for t in texts] == ["do you ship to canada?"] and labels == [
        "shipping_countries"
    ]


def test_training_examples_keep_the_latest_answer_per_text(database_url: str | None, tmp_path: Path) -> None:
    q = ReviewQueue(tmp_path / "review.db", database_url=database_url)
    for n, text in enumerate(["cancel my order", "Cancel my order ", "where is it"]):
        q.add(f"t{n}", text, "low_confidence", predicted="order_status")
    a, b, c = sorted(i["id"] for i in q.items())
    q.resolve(a, "order_status")
    q.resolve(c, "order_status")
    q.resolve(b, "cancel_order")  # a later reviewer answers the same question differently: the latest counts
    assert q.training_examples() == (["Cancel my order ", "where is it"], ["cancel_order", "order_status"])


def test_without_same_text_only_the_item_changes(database_url: str | None, tmp_path: Path) -> None:
    q = ReviewQueue(tmp_path / "review.db", database_url=database_url)
    for n in range(3):
        q.add(f"t{n}", "where is my refund", "thumbs_down", predicted="refund_status")
    first = q.items()[-1]["id"]
    assert q.resolve(first, None)["also_resolved"] == 0
    assert q.counts() == {"discarded": 1, "pending": 2}
    assert q.resolve(q.items()[0]["id"], None, same_text=True)["also_resolved"] == 1
    assert q.counts() == {"discarded": 3}
    with pytest.raises(KeyError):
        q.resolve(999, None, same_text=True)


def replicas(database_url: str | None, tmp_path: Path) -> tuple[ReviewQueue, ReviewQueue]:
    """Two queues on one database through two engines (two pools), as two replicas have."""
    other = f"{database_url}?application_name=replica-two" if database_url else None
    one = ReviewQueue(tmp_path / "review.db", database_url=database_url)
    two = ReviewQueue(tmp_path / "review.db", database_url=other)
    assert one.engine is not two.engine
    return one, two


def at_once(*calls) -> list:
    """Run the calls in threads released together; their results (or the exceptions they raised)."""
    start, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(n: int) -> None:
        start.wait()
        try:
            results[n] = calls[n]()
        except Exception as exc:  # noqa: BLE001 (the test looks at it)
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_two_replicas_resolving_one_question_at_once_answer_it_once(
    database_url: str | None, tmp_path: Path
) -> None:
    one, two = replicas(database_url, tmp_path)
    for rnd in range(3):
        for n in range(12):
            one.add(f"r{rnd}-t{n}", f"where is my refund {rnd}", "unanswered", predicted="refund_status")
        ids = sorted(i["id"] for i in one.items(limit=1000) if i["turn_id"].startswith(f"r{rnd}-"))
        # Two reviewers answer copies of the same question differently, each on their replica, with same_text.
        results = at_once(
            partial(one.resolve, ids[0], "refund_status", reviewer="erin", same_text=True),
            partial(two.resolve, ids[-1], "cancel_order", reviewer="dana", same_text=True),
        )
        won = [r for r in results if isinstance(r, dict)]
        lost = [r for r in results if not isinstance(r, dict)]
        assert len(won) == 1 and won[0]["also_resolved"] == 11, results
        assert len(lost) == 1 and isinstance(lost[0], AlreadyReviewed), results
        answers = {
            (i["label"], i["reviewer"]) for i in one.items(None, 1000) if i["turn_id"].startswith(f"r{rnd}-")
        }
        assert answers == {(won[0]["label"], won[0]["reviewer"])}  # all twelve, by the winner only
    assert one.counts() == two.counts() and "pending" not in one.counts()
    with pytest.raises(AlreadyReviewed):  # answered already: a second answer is refused, not written over
        two.resolve(ids[0], None)


def test_two_replicas_queueing_one_turn_at_once_keep_both_reasons(
    database_url: str | None, tmp_path: Path
) -> None:
    one, two = replicas(database_url, tmp_path)
    for n in range(10):
        new = at_once(
            partial(one.add, f"t{n}", "a human please", "handoff"),
            partial(two.add, f"t{n}", "a human please", "thumbs_down"),
        )
        assert sorted(new) == [False, True], new  # one item, made once
    items = one.items(limit=100)
    assert len(items) == 10 and {i["reasons"] for i in items} == {"handoff,thumbs_down"}
