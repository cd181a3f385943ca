"""Review labels: the intents a reviewer may use, and names that are refused."""

from __future__ import annotations

import pytest

from assistant.review_labels import UnknownIntent, check_label, known_intents
from training import OUT_OF_SCOPE, ModelRegistry
from training.review import ReviewQueue

KNOWN = {"refund_status", "reset_password", OUT_OF_SCOPE}


def test_known_intents_are_the_model_data_templates_and_reviews(demo_assistant) -> None:
    settings = demo_assistant.settings
    model_labels = set(demo_assistant.intents.labels)
    templates = {t.intent for t in demo_assistant.kb.templates()}
    assert templates, "the demo knowledge base has answer templates"
    from_disk = known_intents(settings)  # as the CLI sees it: the home's files only
    assert from_disk == known_intents(settings, demo_assistant.kb)  # as the server sees it
    assert model_labels | templates | {OUT_OF_SCOPE} <= from_disk
    assert ModelRegistry(settings.intents_dir).current() is not None


def test_reviewed_new_intents_become_known(tmp_path) -> None:
    from assistant.config import load_settings

    settings = load_settings(home=tmp_path / "home")
    assert known_intents(settings) == {OUT_OF_SCOPE}  # empty home: nothing but out of scope
    queue = ReviewQueue(settings.home / "review.db")
    queue.add("t1", "can I pay with crypto", "unanswered")
    queue.resolve(queue.items()[0]["id"], "crypto_payments")
    assert known_intents(settings) == {OUT_OF_SCOPE, "crypto_payments"}


@pytest.mark.parametrize(
    ("label", "new", "expected"),
    [
        ("refund_status", False, "refund_status"),
        ("  reset_password\n", False, "reset_password"),
        (OUT_OF_SCOPE, False, OUT_OF_SCOPE),
        ("gift_cards", True, "gift_cards"),
        ("退款", True, "退款"),
        ("billing.v2-eu", True, "billing.v2-eu"),
    ],
)
def test_check_label_accepts(label: str, new: bool, expected: str) -> None:
    assert check_label(label, KNOWN, new=new) == expected


@pytest.mark.parametrize(
    ("label", "new", "message"),
    [
        ("refund_statsu", False, "Did you mean refund_status?"),
        ("gift_cards", False, "lepton review label --new"),
        ("", True, "not an intent name"),
        ("refund status", True, "not an intent name"),
        ("a/b", True, "not an intent name"),
        ("x" * 121, True, "not an intent name"),
    ],
)
def test_check_label_refuses(label: str, new: bool, message: str) -> None:
    with pytest.raises(UnknownIntent, match=message.replace(".", r"\.").replace("?", r"\?")):
        check_label(label, KNOWN, new=new)
