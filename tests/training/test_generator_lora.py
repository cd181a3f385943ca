"""`lepton train generator`: approved pairs from the logs, a few LoRA steps on CPU, registry and runtime loading."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.config import Settings
from assistant.conversations import ConversationStore
from assistant.feedback import FeedbackStore
from assistant.generation import LocalGenerator, build_messages
from assistant.pipeline import Assistant
from training.generator_lora import collect_pairs, current_adapter, generator_registry
from training.review import CONFIRMED, ReviewQueue
from ui.cli import app

REFUND = {
    "id": "refunds#0",
    "title": "Refunds",
    "uri": "kb:refunds",
    "snippet": "Refunds are paid to the original payment method within 5 business days.",
}
SHIPPING = {
    "id": "shipping#0",
    "title": "Shipping",
    "uri": "kb:shipping",
    "snippet": "Standard shipping takes 3 to 5 business days; express takes 1 to 2.",
}
# (message, reply, route, language, sources, approval) where approval is "up", "down", "confirmed" or None.
TURNS = [
    (
        "how long do refunds take",
        "Refunds reach your original payment method within 5 business days.",
        "rag",
        "en",
        [REFUND],
        "up",
    ),
    (
        "how fast is shipping",
        "Standard shipping takes 3 to 5 business days, express 1 to 2.",
        "rag",
        "en",
        [SHIPPING],
        "confirmed",
    ),
    ("退款要多久", "退款会在5个工作日内退回原支付方式。", "template", "zh", [REFUND], "up"),
    (
        "can I get express delivery",
        "Yes: express shipping takes 1 to 2 business days.",
        "rag",
        "en",
        [SHIPPING],
        "confirmed",
    ),
    ("what is the weather", "Sorry, I can only help with orders.", "fallback", "en", [], "confirmed"),
    ("refund to another card?", "No idea.", "rag", "en", [REFUND], "down"),
]


def make_home(tmp_path: Path, turns: list = TURNS) -> Path:
    home = tmp_path / "home"
    store = ConversationStore(home / "conversations.db")
    feedback = FeedbackStore(store)
    review = ReviewQueue(home / "review.db")
    for message, reply, route, language, sources, approval in turns:
        session = store.session(None)
        turn_id = store.log_turn(
            session,
            {
                "message": message,
                "reply": reply,
                "route": route,
                "language": language,
                "intent": "x",
                "confidence": 0.9,
                "sources": sources,
            },
        )
        if approval in ("up", "down"):
            feedback.record(turn_id, approval, None)
        elif approval == "confirmed":
            review.add(
                turn_id, message, "low_confidence", session_id=session.id, language=language, predicted="x"
            )
            item = review.items()[0]
            review.resolve(item["id"], "x")
            assert review.get(item["id"])["status"] == CONFIRMED
    store.close()
    return home


def test_pairs_are_thumbs_up_or_confirmed_answers(tmp_path: Path) -> None:
    pairs = collect_pairs(make_home(tmp_path))
    assert [p.question for p in pairs] == [t[0] for t in TURNS[:4]]
    assert pairs[0].passages[0].text == REFUND["snippet"] and pairs[2].language == "zh"
    assert collect_pairs(tmp_path / "empty") == []


def test_too_few_pairs_refused(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    result = CliRunner().invoke(
        app, ["train", "generator", "--home", str(home), "--min-pairs", "5", "--steps", "1"]
    )
    assert result.exit_code == 2
    assert "only 4 approved question/answer pairs" in result.output
    assert generator_registry(home).current() is None and not (home / "models" / "generator").exists()


@pytest.mark.slow
def test_train_register_and_load(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    result = CliRunner().invoke(
        app, ["train", "generator", "--home", str(home), "--steps", "4", "--min-pairs", "4"]
    )
    assert result.exit_code == 0, result.output
    assert "generator adapter v0001 promoted" in result.output

    registry = generator_registry(home)
    version, path = registry.current()
    assert version == "v0001" and (path / "adapter_config.json").is_file()
    meta = registry.metadata(version)
    m = meta["metrics"]
    assert m["pairs"] == 4 and m["steps"] == 4 and m["seconds"] > 0
    assert m["train_loss_after"] < m["train_loss_before"]
    assert current_adapter(home) == path
    assert current_adapter(home, tmp_path / "other-model") is None  # trained on another base: not used

    gen = LocalGenerator(adapter_path=path)
    passages = [p for p in collect_pairs(home)[0].passages]
    text = gen.generate(build_messages("how long do refunds take", passages, "en"), max_new_tokens=12)
    assert gen.adapter_loaded and text.strip()

    on = Assistant(Settings(home=home))._make_generator()
    off = Assistant(Settings(home=home, generator={"adapter": "off"}))._make_generator()
    assert isinstance(on, LocalGenerator) and on.adapter_path == path
    assert isinstance(off, LocalGenerator) and off.adapter_path is None
