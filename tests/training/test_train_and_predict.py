"""Real training on a tiny templated set (fast preset); shared via the `trained` fixture."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from training import OUT_OF_SCOPE, IntentClassifier, ModelRegistry, TrainConfig, train_intent_model

pytestmark = pytest.mark.slow


def test_model_folder_is_complete(trained) -> None:  # type: ignore[no-untyped-def]
    out = trained.result.out_dir
    for name in (
        "encoder/config.json",
        "encoder/model.safetensors",
        "encoder/tokenizer.json",
        "head.safetensors",
        "labels.json",
        "calibration.json",
        "metrics.json",
        "config.json",
    ):
        assert (out / name).exists(), name
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # temp dir renamed away
    m = trained.result.metrics
    assert m["train_seconds"] > 0 and 0.0 <= m["macro_f1"] <= 1.0
    assert m["oos_method"] in ("msp", "energy", "mahalanobis")
    assert json.loads((out / "metrics.json").read_text())["macro_f1"] == m["macro_f1"]
    # The kNN vote was searched on validation and only kept when it did not lose to the head alone.
    vote = m["knn_vote"]
    assert vote["weight"] == 0.0 or vote["val_accuracy"] > vote["val_accuracy_head"]
    assert json.loads((out / "calibration.json").read_text())["knn_vote"] == vote
    assert (out / "knn_bank.safetensors").exists()


def test_beats_chance_and_flags_oos(trained) -> None:  # type: ignore[no-untyped-def]
    clf = IntentClassifier.load(trained.result.out_dir)
    assert set(clf.labels) == set(trained.train_y)
    preds = clf.predict(trained.test_x)
    in_scope = [(p, g) for p, g in zip(preds, trained.test_y, strict=True) if g != OUT_OF_SCOPE]
    oos = [p for p, g in zip(preds, trained.test_y, strict=True) if g == OUT_OF_SCOPE]
    acc = sum(p.name == g for p, g in in_scope) / len(in_scope)
    assert acc > 0.6  # chance is 0.2 over five in-scope intents
    assert sum(p.is_oos for p in oos) / len(oos) >= 0.5
    for p in preds:
        assert 0.0 <= p.confidence <= 1.0
        assert len(p.ranking) == 5 and all(lab != OUT_OF_SCOPE for lab, _ in p.ranking)
        assert p.is_oos == (p.name == OUT_OF_SCOPE)


def test_save_load_round_trip_is_identical(trained, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = trained.result.out_dir
    first = IntentClassifier.load(src).predict(trained.test_x)
    reg = ModelRegistry(tmp_path / "registry")
    version = reg.register(
        src, metrics=trained.result.metrics, data_fingerprint="x", config=trained.result.config
    )
    reg.promote(version)
    copy = IntentClassifier.load(reg.current()[1])  # type: ignore[index]
    copy.warm_up()
    second = copy.predict(trained.test_x)
    assert [p.name for p in first] == [p.name for p in second]
    assert [p.ranking for p in first] == [p.ranking for p in second]


def test_in_memory_val_metrics_match_reloaded_model(tmp_path: Path, trained) -> None:  # type: ignore[no-untyped-def]
    cfg = TrainConfig.fast(epochs=1)
    res = train_intent_model(
        trained.train_x,
        trained.train_y,
        tmp_path / "m",
        config=cfg,
        val_texts=trained.test_x,
        val_labels=trained.test_y,
        progress=False,
    )
    _assert_val_metrics_describe(res, trained.test_x, trained.test_y)
    # retraining into the same folder replaces it atomically
    res2 = train_intent_model(
        trained.train_x,
        trained.train_y,
        tmp_path / "m",
        config=cfg.__class__.fast(max_steps=1),
        progress=False,
    )
    assert res2.out_dir == res.out_dir and sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_val_metrics_describe_the_served_blend(tmp_path: Path, trained) -> None:  # type: ignore[no-untyped-def]
    """With the multilingual head the served label comes from the blend: val_* must describe it, not MiniLM."""
    res = train_intent_model(
        trained.train_x,
        trained.train_y,
        tmp_path / "m",
        config=TrainConfig.fast(epochs=1, multilingual_head=True),
        val_texts=trained.test_x,
        val_labels=trained.test_y,
        progress=False,
    )
    _assert_val_metrics_describe(res, trained.test_x, trained.test_y)
    assert {"minilm_val_accuracy", "minilm_val_in_scope_accuracy", "minilm_val_oos_recall"} <= set(
        res.metrics
    )


def _assert_val_metrics_describe(res, texts: list[str], gold: list[str]) -> None:  # type: ignore[no-untyped-def]
    """The recorded val accuracy, in-scope accuracy and OOS recall are those of the saved model, reloaded."""
    preds = [p.name for p in IntentClassifier.load(res.out_dir).predict(texts)]
    pairs = list(zip(preds, gold, strict=True))
    in_scope = [p == g for p, g in pairs if g != OUT_OF_SCOPE]
    caught = [p == OUT_OF_SCOPE for p, g in pairs if g == OUT_OF_SCOPE]
    assert in_scope and caught
    assert sum(p == g for p, g in pairs) / len(pairs) == pytest.approx(res.metrics["val_accuracy"])
    assert sum(in_scope) / len(in_scope) == pytest.approx(res.metrics["val_in_scope_accuracy"])
    assert sum(caught) / len(caught) == pytest.approx(res.metrics["val_oos_recall"])


def test_concurrent_predict_matches_sequential(trained) -> None:  # type: ignore[no-untyped-def]
    clf = IntentClassifier.load(trained.result.out_dir)
    texts = trained.test_x[:12]
    expected = [p.name for p in clf.predict(texts)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda t: clf.predict([t])[0].name, texts))
    assert results == expected
    assert clf.predict([]) == []


def test_model_folder_is_self_contained(trained, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    moved = tmp_path / "elsewhere"
    shutil.copytree(trained.result.out_dir, moved)
    assert IntentClassifier.load(moved).predict(["where is my bank card"])[0].name == "card_arrival"


@pytest.mark.parametrize("parallel", [False, True], ids=["sequential", "processes"])
def test_ensemble_averages_members_and_round_trips(tmp_path: Path, parallel: bool) -> None:
    import torch

    from tests.training.conftest import make_dataset
    from training.inference import forward_texts
    from training.model import IntentEnsemble

    train_x, train_y, test_x, _ = make_dataset(seed=1)
    out = tmp_path / "ens"
    res = train_intent_model(
        train_x,
        train_y,
        out,
        config=TrainConfig.fast(members=2, epochs=1, parallel_members=parallel),
        progress=False,
    )
    assert res.metrics["members"] == 2 and len(res.metrics["best_epoch"]) == 2
    assert (out / "member-1" / "encoder" / "model.safetensors").exists()
    assert json.loads((out / "config.json").read_text())["members"] == 2
    clf = IntentClassifier.load(out)
    clf.warm_up()
    assert isinstance(clf._net, IntentEnsemble) and len(clf._net.members) == 2
    # The ensemble's logits are the mean of its members' logits; embeddings are concatenated.
    kw = {"max_length": 32, "batch_size": 16}
    logits, emb = forward_texts(clf._net, clf._tokenize, test_x[:6], clf.device, **kw)
    parts = [forward_texts(m, clf._tokenize, test_x[:6], clf.device, **kw) for m in clf._net.members]
    assert torch.allclose(logits, torch.stack([p[0] for p in parts]).mean(0), atol=1e-5)
    assert emb.shape[1] == 2 * parts[0][1].shape[1]
    assert not torch.allclose(parts[0][0], parts[1][0])  # different seeds, different members
    preds = clf.predict(test_x)
    assert len(preds) == len(test_x) and all(0.0 <= p.confidence <= 1.0 for p in preds)
    again = IntentClassifier.load(out).predict(test_x)
    assert [p.name for p in again] == [p.name for p in preds]


def test_refit_trains_on_all_rows_and_keeps_the_val_choices(tmp_path: Path, trained) -> None:  # type: ignore[no-untyped-def]
    from training.calibration import OOSDetector

    cfg = TrainConfig.fast(epochs=2, patience=5, refit=True)
    res = train_intent_model(trained.train_x, trained.train_y, tmp_path / "m", config=cfg, progress=False)
    m = res.metrics
    # The refit saw every given row, for as many epochs as early stopping chose on the held-out ones.
    assert m["refit"]["n_train"] == len(trained.train_x) == m["n_train"] + m["n_val"]
    assert m["refit"]["epochs"] == [m["best_epoch"]]
    assert 0 < m["refit"]["seconds"] < m["train_seconds"] <= m["total_seconds"]
    labels = json.loads((res.out_dir / "labels.json").read_text())
    det = OOSDetector.load(res.out_dir, labels)
    assert (det.method, det.threshold) == (m["oos_method"], m["oos_threshold"])
    assert det.info["refit"] is True
    in_scope_rows = sum(y != OUT_OF_SCOPE for y in trained.train_y)
    assert det.bank is not None and len(det.bank) == in_scope_rows  # the bank holds the held-out rows too
    preds = IntentClassifier.load(res.out_dir).predict(trained.test_x)
    in_scope = [(p.name, g) for p, g in zip(preds, trained.test_y, strict=True) if g != OUT_OF_SCOPE]
    assert sum(p == g for p, g in in_scope) / len(in_scope) > 0.6
    # An explicit validation set is never trained on.
    res2 = train_intent_model(
        trained.train_x,
        trained.train_y,
        tmp_path / "m2",
        config=cfg,
        val_texts=trained.test_x,
        val_labels=trained.test_y,
        progress=False,
    )
    assert "refit" not in res2.metrics and res2.metrics["n_train"] == len(trained.train_x)
