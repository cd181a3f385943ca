"""The review queue: one answer for a question asked many times, in one write."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.review import ReviewQueue


def test_items_count_pending_copies_and_same_text_resolves_them_together(tmp_path: Path) -> None:
    q = ReviewQueue(tmp_path / "review.db")
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


def test_training_examples_keep_the_latest_answer_per_text(tmp_path: Path) -> None:
    q = ReviewQueue(tmp_path / "review.db")
    for n, text in enumerate(["cancel my order", "Cancel my order ", "where is it"]):
        q.add(f"t{n}", text, "low_confidence", predicted="order_status")
    a, b, c = sorted(i["id"] for i in q.items())
    q.resolve(a, "order_status")
    q.resolve(c, "order_status")
    q.resolve(b, "cancel_order")  # a later reviewer answers the same question differently: the latest counts
    assert q.training_examples() == (["Cancel my order ", "where is it"], ["cancel_order", "order_status"])


def test_without_same_text_only_the_item_changes(tmp_path: Path) -> None:
    q = ReviewQueue(tmp_path / "review.db")
    for n in range(3):
        q.add(f"t{n}", "where is my refund", "thumbs_down", predicted="refund_status")
    first = q.items()[-1]["id"]
    assert q.resolve(first, None)["also_resolved"] == 0
    assert q.counts() == {"discarded": 1, "pending": 2}
    assert q.resolve(q.items()[0]["id"], None, same_text=True)["also_resolved"] == 1
    assert q.counts() == {"discarded": 3}
    with pytest.raises(KeyError):
        q.resolve(999, None, same_text=True)
