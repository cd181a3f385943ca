from __future__ import annotations

import re
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
    # Every chunk and template has a vector; slot declarations are stored only (search never returns them).
    assert reopened.reindex() == kb.stats()["chunks"] + kb.stats()["templates"]  # slots: stored, not embedded
    assert len(kb.slots()) == 2
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


# -- slots declared in templates files ---------------------------------------------------------------------
REPAIR_SLOTS = """# A bike workshop's templates: its repair tickets look nothing like a shop's order numbers.
slots:
  ticket:
    pattern: 'R-?(\\d{4})-?([a-z]{2})'
    format: 'R-{1}-{2}'
    case: upper
    ask:
      en: Tell me your repair ticket (R-1234-AB) and I'll check it.
      zh: 请告诉我您的维修单号（例如 R-1234-AB）。
templates:
- id: repair-status-en
  intent: repair_status
  language: en
  title: repair status
  answer: Ticket {ticket} is on the bench; we text you when it is ready.
"""


def _slot_kb(
    tmp_path: Path, minilm: Embedder, files: dict[str, str]
) -> tuple[KnowledgeBase, dict[str, list[str]]]:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tune-ups.md").write_text("# Tune-ups\n\nA full tune-up costs $80 and takes two working days.\n")
    for name, text in files.items():
        (docs / name).write_text(text, encoding="utf-8")
    kb = KnowledgeBase(tmp_path / "kb", embedder=minilm, multilingual=False)
    report = kb.ingest([docs])
    errors: dict[str, list[str]] = {}
    for e in report.errors:
        errors.setdefault(Path(e["path"]).name, []).append(e["error"])
    return kb, errors


def test_slots_declared_in_a_templates_file_are_loaded_and_never_searched(
    tmp_path: Path, minilm: Embedder
) -> None:
    kb, errors = _slot_kb(tmp_path, minilm, {"templates-repairs.yaml": REPAIR_SLOTS})
    assert errors == {}
    ticket = kb.slots()["ticket"]
    # No word boundary between Chinese characters and the value; normalised to the declared format.
    assert ticket.find("我的维修单r4521ab的进度怎么样") == "R-4521-AB"
    assert ticket.find("ticket ｒ－４５２１－ａｂ please") == "R-4521-AB"  # full-width, as CJK keyboards type
    assert ticket.find("XR-4521-AB") is None and ticket.find("R-45210-AB") is None
    assert ticket.ask_text("zh").startswith("请告诉我") and ticket.ask_text("fr").startswith("Tell me")
    assert [t.id for t in kb.templates()] == ["repair-status-en"]
    assert all(h.kind != "slot" for h in kb.search("ticket pattern R format upper ask", k=20))


def test_a_template_may_use_a_slot_another_file_declares(tmp_path: Path, minilm: Embedder) -> None:
    slots_only = REPAIR_SLOTS.split("\ntemplates:")[0]
    uses = "- id: pickup-en\n  intent: pickup\n  language: en\n  title: pickup\n  answer: Ticket {ticket} is ready.\n"
    kb, errors = _slot_kb(tmp_path, minilm, {"templates-a.yaml": uses, "templates-z-slots.yaml": slots_only})
    assert errors == {} and [t.id for t in kb.templates()] == ["pickup-en"] and set(kb.slots()) == {"ticket"}


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        ("pattern: '(R-'", r"slot ticket: invalid pattern"),
        ("pattern: '(\\d+)+x'", r"slot ticket: pattern has a quantified group containing a quantifier"),
        ("pattern: '" + "a" * 300 + "'", r"slot ticket: pattern is longer than"),
        ("pattern: 'R-(\\d{4})'\n    format: 'R-{2}'", r"slot ticket: format field \{2\}"),
        ("pattern: 'R-(\\d{4})'\n    case: title", r"slot ticket: case must be one of"),
        ("pattern: 'R-(\\d{4})'\n    ask: {}", r"slot ticket: ask must map languages"),
        (
            "pattern: 'R-(\\d{4})'\n    ask: {en: x}\n    colour: red",
            r"slot ticket: unknown field\(s\) colour",
        ),
    ],
)
def test_a_bad_slot_declaration_refuses_its_file_with_a_clear_error(
    tmp_path: Path, minilm: Embedder, declaration: str, message: str
) -> None:
    text = f"slots:\n  ticket:\n    {declaration}\ntemplates:\n" + REPAIR_SLOTS.split("templates:\n")[1]
    kb, errors = _slot_kb(tmp_path, minilm, {"templates-repairs.yaml": text})
    assert set(errors) == {"templates-repairs.yaml"}
    assert re.search(message, errors["templates-repairs.yaml"][0]), errors
    assert kb.templates() == [] and kb.slots() == {}


def test_a_template_using_an_undeclared_slot_or_stray_braces_is_refused_by_name(
    tmp_path: Path, minilm: Embedder
) -> None:
    rows = [
        ("uses-order", "Order {order_id} is on its way."),
        ("stray-brace", "Our prices are in { USD."),
        ("positional", "Ticket {0} is ready."),
        ("literal-ok", "Write {{ticket}} on the box for ticket {ticket}."),
    ]
    body = "".join(f"- id: {i}\n  intent: x\n  language: en\n  title: t\n  answer: '{a}'\n" for i, a in rows)
    text = REPAIR_SLOTS.split("templates:\n")[0] + "templates:\n" + body
    kb, errors = _slot_kb(tmp_path, minilm, {"templates-repairs.yaml": text})
    problems = errors["templates-repairs.yaml"]
    assert [t.id for t in kb.templates()] == ["literal-ok"] and len(problems) == 3
    assert "uses-order" in problems[0] and "{order_id}" in problems[0] and "not declared" in problems[0]
    assert "stray-brace" in problems[1] and "positional" in problems[2]
    # The admin API's edits are held to the same rule.
    with pytest.raises(ValueError, match=r"\{order_id\}.*not declared"):
        kb.upsert_template(Template("t2", "x", "en", "t", "Order {order_id} shipped."), "admin")
    kb.upsert_template(Template("t3", "x", "en", "t", "Ticket {ticket} shipped."), "admin")
