from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from training import load_intent_csv
from training.data import cap_per_class, data_fingerprint, stratified_split


def test_load_intent_csv_columns_and_folder(tmp_path: Path) -> None:
    (tmp_path / "part-1.csv").write_text(
        "text,intent,language\nhello,greeting,en\n你好,greeting,zh\n,greeting,en\n"
    )
    (tmp_path / "part-2.csv").write_text("Text,Category\nwhere is my card,card_arrival\n")
    (tmp_path / "notes.txt").write_text("ignored")
    texts, labels = load_intent_csv(tmp_path)
    assert texts == ["hello", "你好", "where is my card"]
    assert labels == ["greeting", "greeting", "card_arrival"]
    assert load_intent_csv([tmp_path / "part-2.csv"]) == (["where is my card"], ["card_arrival"])


def test_load_intent_csv_label_column(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("label,text,extra\nbye,goodbye,1\n")
    assert load_intent_csv(f) == (["goodbye"], ["bye"])
    (tmp_path / "bad.csv").write_text("text,foo\na,b\n")
    with pytest.raises(ValueError):
        load_intent_csv(tmp_path / "bad.csv")


def test_stratified_split_keeps_every_label() -> None:
    labels = ["a"] * 20 + ["b"] * 5 + ["c"] * 2 + ["d"]
    texts = [f"t{i}" for i in range(len(labels))]
    tr_x, tr_y, va_x, va_y = stratified_split(texts, labels, 0.1, seed=0)
    assert sorted(tr_x + va_x) == sorted(texts)
    assert Counter(va_y) == {"a": 2, "b": 1, "c": 1}
    assert "d" in tr_y
    assert stratified_split(texts, labels, 0.1, seed=0) == (tr_x, tr_y, va_x, va_y)


def test_fingerprint_and_cap() -> None:
    assert data_fingerprint(["a", "b"], ["x", "y"]) == data_fingerprint(["b", "a"], ["y", "x"])
    assert data_fingerprint(["a"], ["x"]) != data_fingerprint(["a"], ["y"])
    x, y = cap_per_class([str(i) for i in range(10)], ["p"] * 7 + ["q"] * 3, 2)
    assert Counter(y) == {"p": 2, "q": 2}
