"""Shared fixtures: one real (tiny) training run reused by the slow tests."""

from __future__ import annotations

import csv
import itertools
import random
from dataclasses import dataclass
from pathlib import Path

import pytest

from training import OUT_OF_SCOPE, TrainConfig, TrainResult, train_intent_model

CORES: dict[str, list[str]] = {
    "card_arrival": [
        "my card has not arrived",
        "when will my new card come",
        "the card was never delivered",
        "still waiting for my card in the mail",
        "where is my bank card",
    ],
    "reset_password": [
        "i forgot my password",
        "how do i reset my password",
        "cannot log in, password wrong",
        "change my login password",
        "password reset link not working",
    ],
    "refund": [
        "i want my money back",
        "how do i get a refund",
        "refund my last order",
        "return this item for a refund",
        "when will the refund be paid",
    ],
    "greeting": ["hello there", "good morning", "hi how are you", "hey", "你好"],
    "opening_hours": [
        "when are you open",
        "what are your opening hours",
        "are you open on sunday",
        "what time do you close today",
        "营业时间是什么时候",
    ],
    OUT_OF_SCOPE: [
        "what is the weather tomorrow",
        "tell me a joke",
        "who won the football match",
        "give me a pasta recipe",
        "how tall is mount everest",
        "play some music",
        "what is the capital of peru",
        "recommend a movie",
    ],
}
PREFIXES = ["", "hi, ", "please help: ", "excuse me, ", "quick question, "]
SUFFIXES = ["", "?", " please", " thanks", " asap"]


def make_dataset(seed: int = 0) -> tuple[list[str], list[str], list[str], list[str]]:
    """(train_texts, train_labels, test_texts, test_labels) with disjoint surface forms."""
    rng = random.Random(seed)
    train_x, train_y, test_x, test_y = [], [], [], []
    for label, cores in CORES.items():
        combos = [p + c + s for c, p, s in itertools.product(cores, PREFIXES, SUFFIXES)]
        rng.shuffle(combos)
        n_train = 24 if label != OUT_OF_SCOPE else 30
        for t in combos[:n_train]:
            train_x.append(t)
            train_y.append(label)
        for t in combos[n_train : n_train + 8]:
            test_x.append(t)
            test_y.append(label)
    return train_x, train_y, test_x, test_y


# `--set` flags for a tiny evaluation run (CLI and `accelerate launch` tests): two short epochs, then the refit.
TINY_RUN = ["--set", "epochs=2", "--set", "batch_size=16", "--set", "max_length=32", "--set", "refit=true"]


def write_banking_like(folder: Path, seed: int = 0) -> Path:
    """`make_dataset(seed)` as Banking77's layout: FOLDER/train.csv and test.csv with text,category."""
    train_x, train_y, test_x, test_y = make_dataset(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name, texts, labels in (("train.csv", train_x, train_y), ("test.csv", test_x, test_y)):
        with open(folder / name, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["text", "category"])
            writer.writerows(zip(texts, labels, strict=True))
    return folder


@dataclass
class Trained:
    result: TrainResult
    train_x: list[str]
    train_y: list[str]
    test_x: list[str]
    test_y: list[str]


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    train_x, train_y, test_x, test_y = make_dataset(seed=0)
    out = tmp_path_factory.mktemp("intent") / "model"
    result = train_intent_model(train_x, train_y, out, config=TrainConfig.fast(), progress=False)
    return Trained(result, train_x, train_y, test_x, test_y)


@pytest.fixture()
def model_dir(trained: Trained) -> Path:
    return trained.result.out_dir
