from __future__ import annotations

from knowledge.chunking import MarkdownChunker, word_count
from knowledge.language import detect_language
from knowledge.lexical import MAX_QUERY_TERMS, coverage, query_terms
from knowledge.readers import split_front_matter


def _para(n: int, word: str = "lorem") -> str:
    return " ".join([word] * n) + "."


def test_splits_on_headings_with_heading_path() -> None:
    md = f"# Guide\n\n{_para(120)}\n\n## Returns\n\n{_para(150)}\n\n### Labels\n\n{_para(120)}\n"
    chunks = MarkdownChunker().chunk(md)
    assert [c.heading for c in chunks] == ["Guide", "Guide > Returns", "Guide > Returns > Labels"]
    assert all(80 <= word_count(c.text) <= 300 for c in chunks)


def test_lists_and_tables_stay_whole() -> None:
    items = "\n".join(f"- step {i}" + " word" * 8 for i in range(20))
    table = "| a | b |\n|---|---|\n" + "\n".join(f"| {i} | " + "x " * 6 + "|" for i in range(15))
    md = f"## Steps\n\n{_para(200)}\n\n{items}\n\n## Table\n\n{_para(100)}\n\n{table}\n"
    texts = [c.text for c in MarkdownChunker().chunk(md)]
    assert any(items in t for t in texts)
    assert any(table in t for t in texts)


def test_small_sections_are_merged_and_long_blocks_split() -> None:
    md = "## A\n\nshort one.\n\n## B\n\nshort two.\n\n## C\n\n" + _para(900, "long")
    chunks = MarkdownChunker().chunk(md)
    assert "short one" in chunks[0].text and "short two" in chunks[0].text
    assert all(word_count(c.text) <= 300 for c in chunks)


def test_front_matter_and_language() -> None:
    meta, body = split_front_matter("---\ntitle: T\ntags: [a, b]\n---\n\nHello")
    assert meta == {"title": "T", "tags": ["a", "b"]} and body.strip() == "Hello"
    assert detect_language("退货需要多长时间？") == "zh"
    assert detect_language("How long does a refund take to arrive?") == "en"


def test_chinese_lexical_terms() -> None:
    assert "退货" in query_terms("我想退货")
    assert coverage("我想退货", "如何退货") == 1.0
    assert coverage("今天巴黎天气怎么样", "如何退货") == 0.0


def test_a_long_query_keeps_its_longest_terms() -> None:
    words = [f"w{i:03d}" for i in range(200)]
    terms = query_terms(" ".join(words) + " refundability")
    assert len(terms) == MAX_QUERY_TERMS
    assert terms == [*words[: MAX_QUERY_TERMS - 1], "refundability"]  # the longest, then the first; in order
    assert query_terms("shipping to canada", limit=1) == ["shipping"]
    assert query_terms("退款 refund", limit=1) == ["refund"]
