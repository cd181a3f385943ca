"""The learning loop on real (tiny, fast) training runs: review queue → retrain → promotion rule."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from assistant.config import load_settings
from assistant.learning import retrain, split_heldout
from training import ModelRegistry, TrainConfig
from training.review import ReviewQueue

INTENTS = {
    "reset_password": [
        "i forgot my password",
        "how do i reset my password",
        "password reset link not working",
        "cannot log in, wrong password",
        "change my login password",
        "忘记密码了怎么办",
    ],
    "refund_status": [
        "where is my refund",
        "when will i get my money back",
        "refund not received yet",
        "how long does a refund take",
        "has my refund been processed",
        "退款什么时候到账",
    ],
    "greeting": ["hello there", "good morning", "hi", "hey, anyone there?", "你好", "在吗"],
}
FAST = TrainConfig.fast(epochs=2, max_steps=12)


def write_data(path: Path) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "intent"])
        for intent, texts in INTENTS.items():
            for t in texts:
                for variant in (t, t + "?", "please, " + t, t + " thanks"):
                    w.writerow([variant, intent])
    return path


def test_review_queue_keeps_redacted_text_once_per_turn(tmp_path: Path) -> None:
    q = ReviewQueue(tmp_path / "review.db")
    assert q.add(
        "t1", "my email is a.b@example.com and I need a refund", "low_confidence", predicted="refund_status"
    )
    assert not q.add("t1", "my email is a.b@example.com and I need a refund", "thumbs_down")
    [item] = q.items()
    assert "a.b@example.com" not in item["text"] and item["reasons"] == "low_confidence,thumbs_down"
    q.resolve(item["id"], "refund_status")
    assert q.items()[:1] == [] and q.counts() == {"confirmed": 1}
    assert q.training_examples() == (["my email is [EMAIL] and I need a refund"], ["refund_status"])
    q.add("t2", "blah", "unanswered")
    q.resolve(q.items()[0]["id"], None)
    assert q.training_examples()[0] == ["my email is [EMAIL] and I need a refund"]
    with pytest.raises(KeyError):
        q.resolve(999, "x")


def test_heldout_split_is_stable() -> None:
    texts = [f"question number {i}" for i in range(200)]
    labels = ["a"] * 200
    first = split_heldout(texts, labels)
    assert first == split_heldout(list(reversed(texts))[::-1], labels)
    assert 5 <= len(first[2]) <= 40


@pytest.mark.slow
def test_retrain_from_logs_registers_and_applies_the_promotion_rule(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "home")
    data = write_data(tmp_path / "intents.csv")
    first = retrain(settings, [data], config=FAST, always_promote=True)
    registry = ModelRegistry(settings.intents_dir)
    assert first.promoted and registry.current()[0] == first.version
    assert (settings.intents_dir / "data" / "intents.csv").is_file()
    stored = (settings.intents_dir / "data" / "intents.csv").read_bytes()

    # Bad data is refused with the user's file named, and never replaces the stored data.
    bad = {
        "columns.csv": (b"foo,bar\n1,2\n", "columns.csv: needs a 'text' column"),
        "latin1.csv": ("text,intent\ncaf\xe9,greeting\n".encode("latin-1"), "latin1.csv: not UTF-8"),
        "empty.csv": (b"", "empty.csv: needs a 'text' column"),
        "blank.csv": (b"text,intent\n,\n", "no labelled rows (a text and an intent) found in"),
        "one-intent.csv": (b"text,intent\nhello,greeting\nhi,greeting\n", "at least two in-scope intents"),
    }
    for name, (content, message) in bad.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match=re.escape(message)):
            retrain(settings, [tmp_path / name], config=FAST)
        assert [p.name for p in (settings.intents_dir / "data").iterdir()] == ["intents.csv"]
        assert (settings.intents_dir / "data" / "intents.csv").read_bytes() == stored
    assert registry.current()[0] == first.version and len(registry.list()) == 1

    q = ReviewQueue(settings.home / "review.db")
    q.add("turn-1", "i can't remember my password at all", "low_confidence", predicted="refund_status")
    q.resolve(q.items()[0]["id"], "reset_password")
    second = retrain(settings, from_logs=True, config=FAST)
    assert second.metrics["reviewed_examples"] == 1
    assert second.version != first.version
    current = registry.current()[0]
    assert current == (second.version if second.promoted else first.version)
    assert ("promote" in second.reason) or ("keep current" in second.reason)
    meta = registry.metadata(second.version)
    assert meta["data_fingerprint"] != registry.metadata(first.version)["data_fingerprint"]
    assert "refit" not in second.metrics
    # `intent_refit` (LEPTON_INTENT_REFIT, `lepton train intents --refit`): the model is retrained on all rows.
    refit_settings = load_settings(home=tmp_path / "home", intent_refit=True)
    third = retrain(refit_settings, from_logs=True, config=FAST)
    assert third.metrics["refit"]["n_train"] == third.metrics["n_train"] + third.metrics["n_val"]


def test_sweep_removes_work_of_dead_retrains_only(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from assistant.learning import sweep_stale_work

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(dead.stdout)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        killed = tmp_path / f"train-{dead_pid}-abc"  # a retrain killed with -9
        legacy = tmp_path / "train-x1y2z3"  # the old name, without a pid
        running = tmp_path / f"train-{live.pid}-def"  # another process training right now
        mine = tmp_path / f"train-{os.getpid()}-ghi"  # this process's own retrain
        for d in (killed, legacy, running, mine):
            (d / "model").mkdir(parents=True)
        removed = sweep_stale_work(tmp_path)
        assert sorted(removed) == sorted([killed, legacy])
        assert running.exists() and mine.exists() and not killed.exists() and not legacy.exists()
    finally:
        live.kill()
        live.wait()


def test_new_data_replaces_the_stored_set_and_an_interrupted_swap_is_repaired(tmp_path: Path) -> None:
    from assistant.learning import _store_base_data, base_data_dir, stored_base_data

    settings = load_settings(home=tmp_path / "home")
    a, b = write_data(tmp_path / "a.csv"), write_data(tmp_path / "b.csv")
    _store_base_data(settings, [a, b])
    assert [p.name for p in stored_base_data(settings)] == ["a.csv", "b.csv"]
    _store_base_data(settings, [b])
    assert [p.name for p in stored_base_data(settings)] == ["b.csv"]
    # A crash between the two renames leaves the old set aside and no data folder: it is put back.
    target = base_data_dir(settings)
    target.rename(target.with_name(".data-old-4242"))
    assert [p.name for p in stored_base_data(settings)] == ["b.csv"]
    assert not list(target.parent.glob(".data-*"))
