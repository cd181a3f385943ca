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
from training.generator_lora import GeneratorTrainConfig, current_adapter, generator_registry, train_generator
from training.generator_pairs import PairSources, collect_pairs, split_pairs, training_pairs
from training.review import CONFIRMED, ReviewQueue
from ui.cli import app

# The local generator, which the default (`auto`) runs on CUDA only.
LOCAL = {"backend": "local"}
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


def logs(home: Path) -> PairSources:
    """The home's conversation log and review queue, where the pairs come from."""
    return PairSources(ConversationStore(home / "conversations.db"), ReviewQueue(home / "review.db"))


def test_pairs_are_thumbs_up_or_confirmed_answers(tmp_path: Path) -> None:
    pairs = collect_pairs(logs(make_home(tmp_path)))
    assert [p.question for p in pairs] == [t[0] for t in TURNS[:4]]
    assert pairs[0].passages[0].text == REFUND["snippet"] and pairs[2].language == "zh"
    assert collect_pairs(logs(tmp_path / "empty")) == [] and collect_pairs(None) == []


def test_replies_with_redacted_data_and_repeats_are_left_out(tmp_path: Path) -> None:
    contact = ("who do I write to", "Write to privacy@kestrel.example.", "rag", "en", [REFUND], "up")
    repeat = ("How long do refunds take ", "Within 5 business days.", "rag", "en", [REFUND], "up")
    home = make_home(tmp_path, [*TURNS, contact, repeat])
    # The log keeps the support address only when a cited passage holds it; this one does not.
    assert collect_pairs(logs(home))[4].answer == "Write to [EMAIL]."
    pairs, left_out = training_pairs(logs(home))
    assert left_out == {"redacted": 1, "duplicates": 1}
    assert [p.question for p in pairs] == [t[0] for t in TURNS[1:4]] + [repeat[0].strip()]
    assert pairs[-1].answer == "Within 5 business days."  # the latest answer to a repeated question


def test_held_out_questions_keep_their_side(tmp_path: Path) -> None:
    turns = [(f"question number {i}", f"answer {i}", "rag", "en", [], "up") for i in range(40)]
    pairs, _ = training_pairs(logs(make_home(tmp_path, turns)))
    train, held = split_pairs(pairs[:20])
    assert (
        held and len(train) + len(held) == 20 and not {p.question for p in train} & {p.question for p in held}
    )
    train2, held2 = split_pairs(pairs)
    assert {p.question for p in held} <= {p.question for p in held2}
    assert 4 <= len(held2) <= 14  # about a fifth of 40
    assert len(split_pairs(pairs[:2])[1]) == 1 and split_pairs(pairs[:1]) == (pairs[:1], [])


def test_too_few_pairs_refused(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    result = CliRunner().invoke(
        app, ["train", "generator", "--home", str(home), "--min-pairs", "5", "--steps", "1"]
    )
    assert result.exit_code == 2
    assert "only 4 approved question/answer pairs" in result.output
    assert generator_registry(home).current() is None and not (home / "models" / "generator").exists()


# Answers in one house style ("Kestrel here: ...") the base model cannot guess: held-out questions show whether
# an adapter learned it.
STYLED = [
    (q, f"Kestrel here: {a}", "rag", "en", [src], "up")
    for q, a, src in [
        ("how long do refunds take", "refunds reach your card within 5 business days.", REFUND),
        ("when will I get my money back", "refunds reach your card within 5 business days.", REFUND),
        ("is my refund on its way", "refunds reach your card within 5 business days.", REFUND),
        ("refund timing?", "refunds reach your card within 5 business days.", REFUND),
        ("how fast is shipping", "standard shipping takes 3 to 5 business days.", SHIPPING),
        ("when does my parcel arrive", "standard shipping takes 3 to 5 business days.", SHIPPING),
        ("delivery time please", "standard shipping takes 3 to 5 business days.", SHIPPING),
        ("can I get express delivery", "express shipping takes 1 to 2 business days.", SHIPPING),
        ("is there faster shipping", "express shipping takes 1 to 2 business days.", SHIPPING),
        ("how quick is express", "express shipping takes 1 to 2 business days.", SHIPPING),
        ("do refunds go to my card", "refunds go back to the original payment method.", REFUND),
        ("where does the refund go", "refunds go back to the original payment method.", REFUND),
    ]
]


@pytest.mark.slow
def test_promoted_only_when_held_out_answers_improve(tmp_path: Path) -> None:
    home = make_home(tmp_path, STYLED)
    # Few short steps keep this under a minute on two cores; a high rate still learns the house style.
    first = train_generator(
        home,
        GeneratorTrainConfig(steps=5, batch_size=2, learning_rate=3e-3),
        min_pairs=10,
        sources=logs(home),
    )
    m = first.metrics
    assert m["pairs"] + m["heldout_pairs"] == 12 and m["heldout_pairs"] >= 1 and m["served"] == "base"
    assert m["heldout_loss"] < m["heldout_loss_base"] == m["heldout_loss_served"]
    assert first.promoted and generator_registry(home).current()[0] == first.version == "v0001"

    # A learning rate that wrecks the model: registered for the record, never served.
    wrecked = train_generator(
        home,
        GeneratorTrainConfig(steps=2, batch_size=2, learning_rate=0.5),
        min_pairs=10,
        sources=logs(home),
    )
    assert wrecked.metrics["served"] == "v0001"
    assert wrecked.metrics["heldout_loss_served"] == m["heldout_loss"]  # the served adapter, re-measured
    assert wrecked.metrics["heldout_loss"] > wrecked.metrics["heldout_loss_served"]
    assert not wrecked.promoted and "not better" in wrecked.reason
    assert generator_registry(home).current()[0] == "v0001"

    listed = CliRunner().invoke(app, ["models", "list", "--generator", "--home", str(home)])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert (
        lines[0].startswith("* v0001")
        and lines[1].startswith("  v0002")
        and "held-out answer loss" in lines[1]
    )
    runner = CliRunner()
    assert (
        runner.invoke(app, ["models", "promote", "v0002", "--generator", "--home", str(home)]).exit_code == 0
    )
    assert current_adapter(home) == generator_registry(home).path_of("v0002")
    back = runner.invoke(app, ["models", "rollback", "--generator", "--home", str(home)])
    assert back.exit_code == 0 and "v0001 is current" in back.output
    missing = runner.invoke(app, ["models", "promote", "v0009", "--generator", "--home", str(home)])
    assert missing.exit_code == 2 and "lepton models list --generator" in missing.output


@pytest.mark.slow
def test_train_register_and_load(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    result = CliRunner().invoke(
        app, ["train", "generator", "--home", str(home), "--steps", "4", "--min-pairs", "4", "--force"]
    )
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # rich wraps long lines
    assert "generator adapter v0001 promoted" in said and "held-out answer loss" in said

    registry = generator_registry(home)
    version, path = registry.current()
    assert version == "v0001" and (path / "adapter_config.json").is_file()
    meta = registry.metadata(version)
    m = meta["metrics"]
    assert m["pairs"] + m["heldout_pairs"] == 4 and m["steps"] == 4 and m["seconds"] > 0
    assert m["train_loss_after"] < m["train_loss_before"]
    assert current_adapter(home) == path
    assert current_adapter(home, tmp_path / "other-model") is None  # trained on another base: not used

    gen = LocalGenerator(adapter_path=path)
    passages = [p for p in collect_pairs(logs(home))[0].passages]
    text = gen.generate(build_messages("how long do refunds take", passages, "en"), max_new_tokens=12)
    assert gen.adapter_loaded and text.strip()

    on = Assistant(Settings(home=home, generator=LOCAL))._make_generator()
    off = Assistant(Settings(home=home, generator={**LOCAL, "adapter": "off"}))._make_generator()
    assert isinstance(on, LocalGenerator) and on.adapter_path == path
    assert isinstance(off, LocalGenerator) and off.adapter_path is None

    # A running assistant follows promotions and rollbacks, loading the new model aside before the swap.
    copy = registry.register(path, metrics=m, data_fingerprint="copy", config=meta["config"])
    served = Assistant(Settings(home=home, generator=LOCAL))
    served.generator = on
    assert served.reload_generator() == path and served.generator is on  # unchanged: nothing reloaded
    registry.promote(copy)
    assert served.reload_generator() == registry.path_of(copy)
    assert served.generator is not on and served.generator.adapter_loaded
    registry.rollback()
    assert served.reload_generator() == path and served.generator.adapter_path == path
    unadapted = Assistant(Settings(home=home, generator={**LOCAL, "adapter": "off"}))
    unadapted.generator = off
    assert unadapted.reload_generator() is None and unadapted.generator is off
