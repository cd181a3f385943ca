from __future__ import annotations

from assistant.generation import Passage, extractive_answer
from assistant.generation.text import CJK_RE

EN = Passage(
    id="en-returns",
    title="Return policy",
    text=(
        "---\ntitle: Return policy\n---\n## Return windows\n\n"
        "Most items can be returned within **30 days** from delivery.\n\n"
        "| Item | Window |\n|---|---|\n| Opened laptops | 15 days |\n\n"
        "Gift cards cannot be returned. Our stores are painted blue."
    ),
    language="en",
)
ZH = Passage(
    id="zh-returns",
    title="退货政策",
    text="## 退货期限\n\n大多数商品自签收之日起 **30 天**内可以退货。已拆封的笔记本电脑和手机为 15 天。礼品卡不可退货。",
    language="zh",
)


def test_english_answer_is_clean_and_relevant():
    answer = extractive_answer("How many days do I have to return an item?", [EN, ZH], "en")
    assert "30 days" in answer
    for bad in ("#", "|", "**", "---"):
        assert bad not in answer
    assert not CJK_RE.search(answer)


def test_chinese_answer_for_chinese_passages():
    answer = extractive_answer("退货期限是多少天？", [EN, ZH], "zh")
    assert "30" in answer and CJK_RE.search(answer)
    assert "**" not in answer and "#" not in answer
    assert "Most items" not in answer


def test_max_sentences_and_empty():
    assert extractive_answer("return", [EN], "en", max_sentences=1).count(".") <= 2
    assert extractive_answer("anything", [], "en") == ""


def test_uses_embedder_when_given():
    import numpy as np

    def embed(texts: list[str]) -> np.ndarray:  # toy embedder: "gift" dimension
        rows = np.array([[1.0, 1.0 if "ift" in t else 0.0] for t in texts])
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    answer = extractive_answer("gift?", [EN], "en", embed=embed, max_sentences=1)
    assert answer.startswith("Gift cards")


def test_extractive_answer_passes_the_guard():
    from assistant.generation import GroundingGuard

    guard = GroundingGuard()
    for question, language in (
        ("How many days do I have to return an item?", "en"),
        ("退货期限是多少天？", "zh"),
    ):
        answer = extractive_answer(question, [EN, ZH], language)
        verdict = guard.check(answer, [EN, ZH], language)
        assert verdict.ok, (answer, verdict)
