"""A person's answer becomes the intent's draft template in every language the knowledge base has: their own
language written, the others held for translation (never published until written) or marked "needs update"."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge import Embedder, KnowledgeBase, Template
from knowledge.versions import NothingToPublish
from tests.knowledge.test_twins import two_languages


@pytest.fixture
def kb(tmp_path: Path, minilm: Embedder) -> KnowledgeBase:
    kb = KnowledgeBase(tmp_path / "kb", embedder=minilm, multilingual=False)
    report = kb.ingest([two_languages(tmp_path / "src")], actor="setup")
    assert report.errors == [] and report.version == 1
    return kb


def live(kb: KnowledgeBase) -> dict[str, Template]:
    return {t.id: t for t in kb.templates()}


def states(written: dict) -> dict[str, tuple[str, str]]:
    return {d["language"]: (d["id"], d["state"]) for d in written["drafts"]}


def test_a_new_intent_is_written_in_one_language_and_held_in_the_others(kb: KnowledgeBase) -> None:
    assert kb.languages() == {"en", "zh", "fr"}
    answer = "Yes: every order can be gift wrapped for $5 (choose it at checkout)."
    written = kb.draft_answer("gift_wrap", "en", "Do you gift wrap?", answer, actor="alice")
    assert written["template"] == {
        "id": "tpl-gift-wrap-en",
        "intent": "gift_wrap",
        "language": "en",
        "title": "Do you gift wrap?",
        "answer": answer,
    }
    assert states(written) == {
        "en": ("tpl-gift-wrap-en", "written"),
        "fr": ("tpl-gift-wrap-fr", "needs translation"),
        "zh": ("tpl-gift-wrap-zh", "needs translation"),
    }
    # The Chinese draft holds the English text, marked as waiting for its translation.
    zh = {t.id: t for t in kb.templates(draft=True)}["tpl-gift-wrap-zh"]
    assert (zh.intent, zh.language, zh.answer) == ("gift_wrap", "zh", answer)
    mark = kb.twin_status("template", "tpl-gift-wrap-zh")["needs_update"]
    assert mark["needs_translation"] and mark["source"] == "tpl-gift-wrap-en" and mark["by"] == "alice"
    assert "tpl-gift-wrap-en" not in live(kb)  # a draft until published

    # Publishing makes the English answer live and leaves the untranslated drafts out.
    version = kb.publish("alice")
    assert version["changes"] == "1 template added"
    assert "tpl-gift-wrap-en" in live(kb)
    assert "tpl-gift-wrap-zh" not in live(kb) and "tpl-gift-wrap-fr" not in live(kb)
    assert not [h for h in kb.search("gift wrap", k=10) if h.id.startswith("tpl-gift-wrap-zh")]
    with pytest.raises(NothingToPublish):  # the held drafts are no change a publish could make
        kb.publish("alice")
    # "Still right" is no answer to a missing translation, and editing the English one keeps them held.
    with pytest.raises(ValueError, match="own language"):
        kb.confirm_twin("template", "tpl-gift-wrap-zh", actor="bob")
    kb.draft_answer("gift_wrap", "en", "", answer.replace("$5", "$6"), actor="alice")
    assert kb.twin_status("template", "tpl-gift-wrap-zh")["needs_update"]["needs_translation"]
    kb.publish("alice")
    assert "$6" in live(kb)["tpl-gift-wrap-en"].answer and "tpl-gift-wrap-zh" not in live(kb)
    assert "$6" in {t.id: t for t in kb.templates(draft=True)}["tpl-gift-wrap-zh"].answer  # kept current

    # Written in Chinese, it is a template like any other: published with the next version.
    kb.upsert_template(
        Template("tpl-gift-wrap-zh", "gift_wrap", "zh", "礼品包装", "可以：每个订单礼品包装 6 美元。"), "li"
    )
    assert kb.twin_status("template", "tpl-gift-wrap-zh")["needs_update"] is None
    assert kb.publish("li")["changes"] == "1 template added"
    assert live(kb)["tpl-gift-wrap-zh"].answer.startswith("可以")
    assert "tpl-gift-wrap-fr" not in live(kb)


def test_an_intent_with_templates_gets_a_new_version_and_its_twins_marked(kb: KnowledgeBase) -> None:
    written = kb.draft_answer("refund", "en", "", "Refunds reach your card within 5 business days.", "alice")
    assert written["template"]["id"] == "refund-en" and written["template"]["title"] == "Refunds"
    assert states(written) == {
        "en": ("refund-en", "written"),
        "fr": ("refund-fr", "needs update"),
        "zh": ("refund-zh", "needs update"),
    }
    assert "3 business" in live(kb)["refund-en"].answer  # the live version is untouched until published
    assert kb.publish("alice")["changes"] == "1 template changed"
    assert "5 business" in live(kb)["refund-en"].answer
    # The other languages' own (outdated, but translated) templates stay live, marked for an update.
    assert live(kb)["refund-zh"].answer == "退款会在 3 个工作日内退回。"
    assert {m["id"] for m in kb.needs_update()} == {"refund-zh", "refund-fr"}


def test_a_new_language_for_an_intent_marks_the_existing_ones(kb: KnowledgeBase) -> None:
    written = kb.draft_answer("greeting", "zh", "问候", "您好！有什么可以帮您？", "li")
    assert states(written) == {
        "zh": ("tpl-greeting-zh", "written"),
        "en": ("greeting-en", "needs update"),
        "fr": ("tpl-greeting-fr", "needs translation"),
    }
    mark = kb.twin_status("template", "greeting-en")["needs_update"]
    assert mark["source"] == "tpl-greeting-zh" and not mark["needs_translation"] and "您好" in mark["diff"]


def test_a_bad_answer_writes_nothing(kb: KnowledgeBase) -> None:
    before = kb.templates(draft=True)
    with pytest.raises(ValueError):  # an undeclared slot
        kb.draft_answer("gift_wrap", "en", "Gift wrap", "Your order {order_number} can be wrapped.", "alice")
    with pytest.raises(ValueError):
        kb.draft_answer("gift_wrap", "en", "Gift wrap", "  ", "alice")
    assert kb.templates(draft=True) == before and kb.needs_update() == []


def test_a_deleted_held_draft_leaves_no_mark_behind(kb: KnowledgeBase) -> None:
    kb.draft_answer("gift_wrap", "en", "Gift wrap", "Gift wrap costs $5.", "alice")
    kb.delete("tpl-gift-wrap-zh", "alice")
    kb.upsert_template(Template("tpl-gift-wrap-zh", "gift_wrap", "zh", "礼品包装", "礼品包装 5 美元。"), "li")
    kb.publish("li")
    assert "tpl-gift-wrap-zh" in live(kb) and "tpl-gift-wrap-fr" not in live(kb)
