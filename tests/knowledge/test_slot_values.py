"""Every value of a slot in a message (the agent's desk lists the order numbers a customer mentioned)."""

from __future__ import annotations

from knowledge.slots import parse_slot


def test_find_all_gives_every_value_once_in_order() -> None:
    slot = parse_slot(
        "order_id",
        {"pattern": r"KH-?\s?(\d{8})", "format": "KH-{1}", "case": "upper", "ask": "Your order number?"},
    )
    text = "kh 20481937, then KH-55501234 and again ＫＨ－２０４８１９３７; not XKH-11112222"
    assert slot.find_all(text) == ["KH-20481937", "KH-55501234"]
    assert slot.find(text) == "KH-20481937"
    assert slot.find_all("no order here") == []
