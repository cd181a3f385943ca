"""Twins kept in step: editing a template or document marks its other-language twins "needs update" until
they are edited or confirmed; publish and rollback carry the marks; versions say what they changed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from knowledge import Embedder, KnowledgeBase, Template
from knowledge.twins import change_summary, twin_key

REFUNDS_EN = """---
title: Refunds
language: en
---

Refunds reach your card within 3 business days after the warehouse receives the return.
"""
REFUNDS_ZH = """---
title: 退款
language: zh
---

仓库收到退货后，退款会在 3 个工作日内退回原支付方式。
"""
SHIPPING_EN = """---
title: Shipping
language: en
---

Standard shipping is free on orders over $35.
"""
TEMPLATES = """
templates:
- id: refund-en
  intent: refund
  language: en
  title: Refunds
  answer: Refunds reach your card within 3 business days.
- id: refund-zh
  intent: refund
  language: zh
  title: 退款
  answer: 退款会在 3 个工作日内退回。
- id: refund-fr
  intent: refund
  language: fr
  title: Remboursements
  answer: Le remboursement arrive sous 3 jours ouvrés.
- id: greeting-en
  intent: greeting
  language: en
  title: Greeting
  answer: Hello! How can I help?
"""


def two_languages(folder: Path) -> Path:
    (folder / "en").mkdir(parents=True)
    (folder / "zh").mkdir()
    (folder / "en" / "refunds.md").write_text(REFUNDS_EN, encoding="utf-8")
    (folder / "zh" / "refunds.md").write_text(REFUNDS_ZH, encoding="utf-8")
    (folder / "en" / "shipping.md").write_text(SHIPPING_EN, encoding="utf-8")
    (folder / "templates.yaml").write_text(TEMPLATES, encoding="utf-8")
    return folder


@pytest.fixture
def kb(tmp_path: Path, minilm: Embedder) -> KnowledgeBase:
    kb = KnowledgeBase(tmp_path / "kb", embedder=minilm, multilingual=False)
    report = kb.ingest([two_languages(tmp_path / "src")], actor="setup")
    assert report.errors == [] and report.version == 1
    return kb


def _doc(kb: KnowledgeBase, tail: str) -> str:
    return next(d["id"] for d in kb.documents() if d["uri"].endswith(tail))


def _marked(kb: KnowledgeBase) -> set[str]:
    return {m["id"] for m in kb.needs_update()}


def _refund(answer: str, language: str = "en", title: str = "Refunds") -> Template:
    return Template(f"refund-{language}", "refund", language, title, answer)


def test_twin_key_and_change_summary() -> None:
    assert twin_key("en/refunds.md", "en") == twin_key("zh/refunds.md", "zh") == "refunds.md"
    assert twin_key("refunds.zh.md", "zh") == twin_key("refunds-zh.md", "zh") == "refunds.md"
    assert twin_key("refunds_zh-CN.md", "zh") == twin_key("zh-CN/refunds.md", "zh") == "refunds.md"
    assert twin_key("help/en/a.md", "en") != twin_key("faq/zh/a.md", "zh")
    assert twin_key("how-to-zh.md", "en") == "how-to-zh.md"  # a suffix only counts in its own language
    diff = change_summary(
        "Refunds reach your card within 3 business days.", "Refunds reach your card within 5 business days."
    )
    assert "3 business" in diff and "5 business" in diff and "→" in diff
    assert change_summary("退款会在 3 个工作日内退回。", "退款会在 5 个工作日内退回。").count("→") == 1
    assert change_summary("a b", "a b c").startswith("added")


def test_template_edit_marks_twins_until_edited_or_confirmed(kb: KnowledgeBase) -> None:
    status = kb.twin_status("template", "refund-en")
    assert [t["id"] for t in status["twins"]] == ["refund-fr", "refund-zh"]
    assert status["needs_update"] is None and not any(t["needs_update"] for t in status["twins"])
    assert kb.twin_status("template", "greeting-en")["twins"] == [] and _marked(kb) == set()

    kb.upsert_template(_refund("Refunds reach your card within 5 business days."), actor="alice")
    assert _marked(kb) == {"refund-zh", "refund-fr"}
    mark = kb.twin_status("template", "refund-zh")["needs_update"]
    assert mark["source"] == "refund-en" and mark["source_language"] == "en" and mark["by"] == "alice"
    assert mark["changed"] == ["answer"] and "5 business" in mark["diff"] and mark["at"] > 0
    assert [t["needs_update"] is not None for t in kb.twin_status("template", "refund-en")["twins"]] == [
        True,
        True,
    ]
    edit = kb.audit(1)[0]
    assert edit["action"] == "upsert_template" and edit["detail"]["twins_marked"] == [
        "refund-fr",
        "refund-zh",
    ]

    # Saving the same text again (only spacing differs) marks nothing anew.
    kb.upsert_template(_refund("Refunds reach your card  within 5 business days. "), actor="carol")
    assert kb.twin_status("template", "refund-zh")["needs_update"]["by"] == "alice"

    # The Chinese twin edited in turn: its mark goes, and it marks nothing (it caught up).
    kb.upsert_template(_refund("退款会在 5 个工作日内退回。", "zh", "退款"), actor="li")
    assert _marked(kb) == {"refund-fr"}
    assert kb.audit(1)[0]["detail"].get("twin_updated") is True

    # The French one is confirmed still right.
    after = kb.confirm_twin("template", "refund-fr", actor="bob")
    assert after["id"] == "refund-fr" and after["needs_update"] is None and _marked(kb) == set()
    confirm = kb.audit(1)[0]
    assert (confirm["action"], confirm["actor"], confirm["target"]) == ("confirm_twin", "bob", "refund-fr")
    with pytest.raises(KeyError):
        kb.confirm_twin("template", "nope", actor="bob")
    with pytest.raises(KeyError):
        kb.twin_status("bogus", "refund-en")

    # A new template is no edit: it marks nothing.
    kb.upsert_template(Template("refund-de", "refund", "de", "Erstattung", "In 5 Tagen."), actor="alice")
    assert _marked(kb) == set()


def test_document_edit_marks_its_twin(kb: KnowledgeBase) -> None:
    en, zh, shipping = _doc(kb, "en/refunds.md"), _doc(kb, "zh/refunds.md"), _doc(kb, "shipping.md")
    assert [t["id"] for t in kb.twin_status("document", en)["twins"]] == [zh]
    assert kb.twin_status("document", shipping)["twins"] == []

    kb.edit_document(en, "Refunds reach your card within 5 business days.", actor="alice")
    assert _marked(kb) == {zh}
    mark = kb.twin_status("document", zh)["needs_update"]
    assert mark["source"] == en and mark["changed"] == ["text"] and "5 business" in mark["diff"]

    kb.edit_document(shipping, "Standard shipping is free on orders over $50.", actor="alice")
    assert _marked(kb) == {zh}  # no twin, nothing marked

    kb.edit_document(zh, "仓库收到退货后，退款会在 5 个工作日内退回。", actor="li")
    assert _marked(kb) == set() and kb.twin_status("document", en)["needs_update"] is None


def test_publish_and_rollback_carry_the_marks_and_versions_say_what_changed(kb: KnowledgeBase) -> None:
    [v1] = kb.versions()
    assert v1["changes"] == "3 documents, 4 templates added" and v1["summary"] == "ingest of 4 file(s)"
    assert v1["published_at"].endswith("+00:00") and v1["actor"] == "setup"

    kb.upsert_template(_refund("Refunds reach your card within 5 business days."), actor="alice")
    v2 = kb.publish("alice")
    assert v2["changes"] == "1 template changed" and v2["summary"] == "1 template changed"
    assert _marked(kb) == {"refund-zh", "refund-fr"}  # publishing does not settle the twins

    kb.edit_document(_doc(kb, "en/refunds.md"), "Refunds take 5 business days.", actor="alice")
    kb.delete("greeting-en", actor="alice")
    kb.upsert_template(Template("gift-en", "gift", "en", "Gift cards", "They never expire."), actor="alice")
    v3 = kb.publish("alice", note="five days everywhere")
    assert v3["summary"] == "five days everywhere"
    assert v3["changes"] == "1 document changed; 1 template added; 1 template removed"
    assert _marked(kb) == {"refund-zh", "refund-fr", _doc(kb, "zh/refunds.md")}
    assert [v["summary"] for v in kb.versions()] == [v3["summary"], v2["summary"], v1["summary"]]

    kb.rollback(1, actor="bob")  # back before any edit: no marks
    assert _marked(kb) == set()
    assert kb.templates(draft=True, intent="refund", language="en")[0].answer.endswith("3 business days.")
    kb.rollback(2, actor="bob")  # as it was published: the English edit, both twins marked
    assert _marked(kb) == {"refund-zh", "refund-fr"}

    kb.confirm_twin("template", "refund-zh", actor="bob")
    kb.rollback(2, actor="bob")  # discarding the draft's changes brings the mark back
    assert _marked(kb) == {"refund-zh", "refund-fr"}


def test_versions_published_before_summaries_get_one(kb: KnowledgeBase) -> None:
    kb.upsert_template(_refund("Refunds reach your card within 5 business days."), actor="alice")
    kb.publish("alice")
    db_path = kb.path / "kb.db"
    kb.close()
    with sqlite3.connect(db_path) as con:  # as an older release stored them
        con.execute("ALTER TABLE versions DROP COLUMN changes")
        con.execute("DROP TABLE twin_flags")
        con.execute("DROP TABLE version_twin_flags")
        con.execute("DROP TABLE alembic_version")  # nor did it have migrations
    again = KnowledgeBase(kb.path, embedder=kb.embedder, multilingual=False)
    assert [v["changes"] for v in again.versions()] == [
        "1 template changed",
        "3 documents, 4 templates added",
    ]
    assert again.needs_update() == []


def test_a_template_moved_to_another_file_is_no_change(kb: KnowledgeBase, tmp_path: Path) -> None:
    moved = tmp_path / "moved"
    moved.mkdir()
    (moved / "templates-more.yaml").write_text(TEMPLATES, encoding="utf-8")
    assert kb.ingest([moved], actor="setup").version == 2
    assert kb.versions()[0]["changes"] == "no content changes"
