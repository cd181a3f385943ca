"""Fixing an answer on a real knowledge base (SQLite + Chroma in a temp home) and a real review queue: fine,
use this answer, write the right answer (a draft template in each KB language, or a snippet), and what
each refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.config import load_settings
from assistant.operations import Invalid, NotFound
from assistant.operations.answer_fix import AnswerFix
from assistant.operations.curation_ops import KnowledgeCuration
from assistant.operations.review_desk import ReviewDesk
from knowledge import Embedder, KnowledgeBase, make_embedder
from training.review import ReviewQueue

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
"""


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    emb = make_embedder("minilm")
    emb.warm_up()
    return emb


class Desk:
    def __init__(self, root: Path, minilm: Embedder) -> None:
        src = root / "src"
        src.mkdir()
        (src / "templates.yaml").write_text(TEMPLATES, encoding="utf-8")
        self.settings = load_settings(home=root / "home", demo=False)
        self.kb = KnowledgeBase(self.settings.kb_dir, embedder=minilm, multilingual=False)
        assert self.kb.ingest([src], actor="setup").errors == []
        self.queue = ReviewQueue(self.settings.home / "review.db")
        self.curation = KnowledgeCuration(self.kb)
        self.review = ReviewDesk(self.settings, lambda: self.queue, lambda: self.kb)
        self.fix = AnswerFix(self.review, lambda: self.curation)
        self.turns = 0

    def ask(self, text: str, language: str = "en", predicted: str | None = "out_of_scope") -> int:
        self.turns += 1
        self.queue.add(f"t{self.turns}", text, "unanswered", language=language, predicted=predicted)
        return self.queue.items()[0]["id"]


@pytest.fixture
def desk(tmp_path: Path, minilm: Embedder) -> Desk:
    return Desk(tmp_path, minilm)


def test_write_the_right_answer_drafts_a_template_in_each_language(desk: Desk) -> None:
    first = desk.ask("Do you gift wrap?")
    item = desk.ask("do you gift wrap? ")  # a second customer, the same question
    answer = "Yes: any order can be gift wrapped for $5 at checkout."
    done = desk.fix.write(item, answer, "gift_wrap", new_intent=True, same_text=True, reviewer="alice")

    assert done["kind"] == "template" and done["language"] == "en"  # read from the answer
    assert done["template"]["id"] == "tpl-gift-wrap-en"
    assert done["template"]["title"] == "do you gift wrap?"  # the question: found again by retrieval
    assert [(d["language"], d["state"]) for d in done["drafts"]] == [
        ("en", "written"),
        ("zh", "needs translation"),
    ]
    said = done["said"]
    assert "draft template tpl-gift-wrap-en (English) for the new topic gift_wrap" in said
    assert "Chinese draft tpl-gift-wrap-zh waits for its translation" in said
    assert (
        "publish it in the Knowledge base tab" in said
        and "question, and 1 more with the same text, joins" in said
    )
    # The question (once, however many asked it) joins the training data under the intent.
    assert {desk.queue.get(i)["label"] for i in (first, item)} == {"gift_wrap"}
    texts, labels = desk.queue.training_examples()
    assert [t.strip().lower() for t in texts] == ["do you gift wrap?"] and labels == ["gift_wrap"]

    # A draft, shown in the KB's draft, live only once published; the Chinese one stays out.
    assert ("template", "tpl-gift-wrap-zh") in desk.curation.needs_update()
    assert desk.curation.needs_translation() == {"tpl-gift-wrap-zh"}
    assert "tpl-gift-wrap-en" not in desk.curation.live_templates()
    desk.curation.publish("alice")
    assert set(desk.curation.live_templates()) == {"refund-en", "refund-zh", "tpl-gift-wrap-en"}
    hits = desk.curation.search("can you gift wrap my order", k=3, language="en")
    assert hits and hits[0].id == "tpl-gift-wrap-en"
    with pytest.raises(Invalid, match="own language"):
        desk.curation.confirm("template", "tpl-gift-wrap-zh", "bob")


def test_write_for_a_known_intent_replaces_its_answer(desk: Desk) -> None:
    item = desk.ask("退款要多久？", language="zh", predicted="refund")
    done = desk.fix.write(item, "退款会在 5 个工作日内退回。", "refund", reviewer="li")
    assert done["language"] == "zh" and done["template"]["id"] == "refund-zh"
    assert done["template"]["title"] == "退款"  # an existing template keeps its title
    assert [(d["id"], d["state"]) for d in done["drafts"]] == [
        ("refund-zh", "written"),
        ("refund-en", "needs update"),
    ]
    assert "English template refund-en is marked “needs update”" in done["said"]
    assert done["item"]["status"] == "confirmed" and done["item"]["label"] == "refund"
    desk.curation.publish("li")
    assert desk.curation.live_templates()["refund-zh"].answer.startswith("退款会在 5")


def test_a_snippet_is_a_draft_document_in_the_answers_language(desk: Desk) -> None:
    item = desk.ask("礼品卡可以退吗？", language="zh")
    text = "礼品卡一经售出不可退款，但可以转赠他人。"
    done = desk.fix.write(item, text, "gift_card_refund", new_intent=True, snippet=True)
    assert done["kind"] == "snippet" and done["language"] == "zh"
    assert done["document"]["file"] == "answer-gift-card-refund.zh.md" and done["document"]["id"]
    assert "draft knowledge-base article “礼品卡可以退吗？” (Chinese)" in done["said"]
    assert [c["change"] for c in desk.curation.changes()] == ["added"]
    assert not any(h.kind == "document" for h in desk.curation.search("礼品卡退款", k=3, language="zh"))
    desk.curation.publish("li")
    hits = desk.curation.search("礼品卡能退款吗", k=3, language="zh")
    assert hits and hits[0].kind == "document" and "转赠" in hits[0].text
    assert desk.queue.get(item)["label"] == "gift_card_refund"


def test_write_refuses_what_it_cannot_do_and_drafts_nothing(desk: Desk) -> None:
    item = desk.ask("Do you gift wrap?")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"answer": "Yes.", "intent": "refnd"}, "Did you mean refund"),
        ({"answer": "   ", "intent": "refund"}, "text is empty"),
        ({"answer": "x" * 4001, "intent": "refund"}, "at most 4000"),
        (
            {"answer": "Oui, pour 5 €.", "intent": "refund", "language": "fr"},
            "no fr content; write the answer in English or Chinese",
        ),
        ({"answer": "Wrapped {order_number}.", "intent": "refund"}, "order_number"),
        ({"answer": "Yes.", "intent": "two words", "new_intent": True}, "not an intent name"),
    ]
    for kwargs, message in cases:
        with pytest.raises(Invalid, match=message):
            desk.fix.write(item, **kwargs)
    with pytest.raises(NotFound):
        desk.fix.write(999, "Yes.", "refund")
    assert desk.curation.changes() == [] and desk.queue.get(item)["status"] == "pending"


def test_fine_and_use_this_answer_label_the_item(desk: Desk) -> None:
    right = desk.ask("how long do refunds take", predicted="refund")
    done = desk.fix.fine(right, reviewer="alice")
    assert done["item"]["status"] == "confirmed" and done["item"]["label"] == "refund"
    assert done["said"] == "Marked fine: the bot's answer (topic refund) was right."

    nothing = desk.ask("hmm", predicted=None)
    with pytest.raises(Invalid, match="guessed no topic"):
        desk.fix.fine(nothing)
    used = desk.fix.use(nothing, "refund-zh")  # a template stands for its intent
    assert used["item"]["status"] == "corrected" and used["item"]["label"] == "refund"
    assert "uses the answer of refund" in used["said"]

    wrong = desk.ask("where are my refunds", predicted="out_of_scope")
    with pytest.raises(Invalid, match="Did you mean refund"):
        desk.fix.use(wrong, "refunds")
    with pytest.raises(NotFound):
        desk.fix.fine(12345)
    assert desk.queue.get(wrong)["status"] == "pending"
