from __future__ import annotations

from pathlib import Path

import pytest

from knowledge import Embedder, Hit, KnowledgeBase, Template, demo_paths

from .conftest import write_corpus


def test_search_finds_the_right_article(shared_kb: tuple[KnowledgeBase, Path]) -> None:
    kb, docs = shared_kb
    hits = kb.search("how long until I get my refund?", k=3)
    assert hits and isinstance(hits[0], Hit)
    top = hits[0]
    assert top.kind == "document" and top.uri == str((docs / "returns.md").resolve())
    assert top.title == "How to return an item" and top.tags == ["returns"] and top.language == "en"
    assert kb.min_score <= top.score <= 1.0
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    hits = kb.search("do you ship to Canada", k=1)
    assert hits[0].uri.endswith("shipping.md") and "Express" in hits[0].text


def test_stats_and_filters(shared_kb: tuple[KnowledgeBase, Path]) -> None:
    kb, _ = shared_kb
    stats = kb.stats()
    assert stats["documents"] == 3 and stats["templates"] == 2 and stats["chunks"] >= 3
    assert all(h.language == "en" for h in kb.search("return refund", language="en"))
    assert all("returns" in h.tags for h in kb.search("refund", tags=["returns"]))
    assert kb.search("refund", tags=["no-such-tag"]) == []


def test_chinese_query_finds_chinese_chunk(shared_kb: tuple[KnowledgeBase, Path]) -> None:
    kb, _ = shared_kb
    hits = kb.search("我想退货", k=3)
    assert hits and hits[0].language == "zh" and hits[0].uri.endswith("returns-zh.md")
    assert hits[0].title == "如何退货"
    assert "5 到 7 个工作日" in kb.search("退款时间多久", k=1)[0].text


@pytest.mark.parametrize(
    "query",
    [
        "what's the weather in Paris",
        "write me a python function",
        "who won the world cup",
        "今天巴黎天气怎么样",
    ],
)
def test_unrelated_queries_return_nothing(shared_kb: tuple[KnowledgeBase, Path], query: str) -> None:
    kb, _ = shared_kb
    assert kb.search(query) == []


def test_templates(shared_kb: tuple[KnowledgeBase, Path]) -> None:
    kb, _ = shared_kb
    assert [t.id for t in kb.templates(intent="greeting")] == ["greeting-en"]
    assert kb.templates(language="zh") == []
    tpl = kb.get_template("order-status-en")
    assert isinstance(tpl, Template) and "{order_id}" in tpl.answer
    assert kb.get_template("nope") is None
    hits = kb.search("where is my order, can I track it?", kinds={"template"})
    assert hits and hits[0].id == "order-status-en" and hits[0].uri == "template:order-status-en"
    assert hits[0].kind == "template" and hits[0].intent == "order_status"


def test_reingest_is_idempotent_and_incremental(tmp_path: Path, minilm: Embedder) -> None:
    docs = write_corpus(tmp_path / "docs")
    kb = KnowledgeBase(tmp_path / "kb", embedder=minilm)
    first = kb.ingest([docs])
    assert (first.added, first.updated, first.unchanged, first.removed) == (4, 0, 0, 0)
    assert first.chunks >= 3
    version = kb.stats()["version"]
    again = kb.ingest([docs])
    assert (again.added, again.updated, again.unchanged, again.chunks) == (0, 0, 4, 0)
    assert kb.stats()["version"] == version

    (docs / "shipping.md").write_text(
        "# Shipping\n\nWe now deliver by drone to Mars colonies within a week.\n"
    )
    changed = kb.ingest([docs])
    assert (changed.updated, changed.unchanged) == (1, 3)
    hit = kb.search("can you deliver to Mars?", k=1)[0]
    assert hit.uri.endswith("shipping.md") and "drone" in hit.text
    assert not any("Express" in h.text for h in kb.search("express shipping price", k=5))

    (docs / "returns.md").unlink()
    removed = kb.ingest([docs])
    assert removed.removed == 1 and kb.stats()["documents"] == 2
    assert not any(h.uri.endswith("returns.md") for h in kb.search("return an item refund", k=5))

    reopened = KnowledgeBase(tmp_path / "kb", embedder=minilm)
    assert reopened.search("can you deliver to Mars?", k=1)[0].uri.endswith("shipping.md")
    assert reopened.reindex() == kb.stats()["chunks"] + kb.stats()["templates"]
    assert reopened.search("can you deliver to Mars?", k=1)[0].uri.endswith("shipping.md")


def test_bad_files_are_reported_and_the_rest_ingested(tmp_path: Path, minilm: Embedder) -> None:
    docs = write_corpus(tmp_path / "docs")
    (docs / "empty.md").write_text("")
    (docs / "garbage.md").write_bytes(bytes(range(256)) * 20)
    (docs / "templates-bad.yaml").write_text("- id: x\n  intent: [unclosed\n")
    kb = KnowledgeBase(tmp_path / "kb", embedder=minilm)
    report = kb.ingest([docs, tmp_path / "missing.md"])
    errors = {Path(e["path"]).name: e["error"] for e in report.errors}
    assert set(errors) == {"empty.md", "garbage.md", "templates-bad.yaml", "missing.md"}
    assert "empty" in errors["empty.md"] and "malformed" in errors["templates-bad.yaml"]
    assert report.added == 4 and kb.stats()["documents"] == 3
    assert kb.search("do you ship to Canada", k=1)


def test_demo_folder(tmp_path: Path, minilm: Embedder) -> None:
    paths = demo_paths()
    if not paths or not any(paths[0].rglob("*.md")):
        pytest.skip("demo articles not present")
    kb = KnowledgeBase(tmp_path / "kb", embedder=minilm)
    report = kb.ingest(paths)
    assert report.errors == [] and report.added >= 10
    hits = kb.search("how do I return an item?", k=3)
    assert hits and "return" in hits[0].title.lower()
    assert kb.search("what's the weather in Paris") == []
