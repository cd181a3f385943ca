from __future__ import annotations

from assistant.generation.text import (
    content_tokens,
    numbers,
    script_language,
    split_sentences,
)


def test_numbers_normalised():
    assert numbers("$1,000.00 within 30 days, 3–5 days, 15%") == {"1000", "30", "3", "5", "15"}
    assert numbers("三十天，十五天，两周") == {"30", "15", "2"}
    assert numbers("two weeks") == {"2"}


def test_sentences_keep_prices_and_abbreviations():
    assert split_sentences("It costs $5.99, e.g. for 3.5 kg. Free over $50!\n退货免费。请在30天内退货！") == [
        "It costs $5.99, e.g. for 3.5 kg.",
        "Free over $50!",
        "退货免费。",
        "请在30天内退货！",
    ]


def test_tokens_and_script():
    assert {"return", "day", "30"} <= content_tokens("Returns within 30 days")
    assert "退货" in content_tokens("请退货")
    assert script_language("请在30天内退货") == "zh"
    assert script_language("Return it within 30 days") == "en"
    assert script_language("30 / 60") is None
