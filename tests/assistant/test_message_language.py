from __future__ import annotations

import pytest

from assistant.message_language import message_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("where is my order", "en"),
        ("How long does a refund take to reach my card?", "en"),
        ("我的快递到哪了", "zh"),
        ("在吗", "zh"),
        ("订单 KH-20481937 还没到", "zh"),
        ("order KH-20481937 退货", "zh"),
        ("I bought a 电视 yesterday and it does not turn on", "en"),
        ("Wo ist meine Bestellung? Ich warte seit einer Woche.", "de"),
    ],
)
def test_detects_language(text: str, expected: str) -> None:
    assert message_language(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "ok", "?!", "KH-20481937", "12345"])
def test_short_or_empty_text_gets_the_default(text: str) -> None:
    assert message_language(text, default="zh") == "zh"


def test_is_deterministic() -> None:
    text = "merci pour votre aide"
    assert len({message_language(text) for _ in range(20)}) == 1
