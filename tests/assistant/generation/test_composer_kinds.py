"""The composer answers the kind of fact asked (a duration as a figure, a way to do it), and a knowledge base's
unit vectors are computed before its first questions. A made-up domain (a climbing gym), English and Chinese."""

from __future__ import annotations

import threading
import time

import numpy as np

from assistant.generation import Passage
from assistant.generation.extractive import compose_answer
from assistant.generation.vector_cache import keep_warm, passage_vectors, prewarm

DEPOSIT_ZH = Passage(
    id="deposit-zh",
    title="押金退还",
    text=(
        "## 押金退还\n\n"
        "归还门禁卡后，前台会在 2 个工作日内发起押金退还。之后银行通常还需要 3–5 个工作日入账。\n\n"
        "| 方式 | 到账时间 |\n|---|---|\n"
        "| 退到会员钱包 | 发起退款后即时到账 |\n\n"
        "如果到账金额不对，请联系前台。"
    ),
    language="zh",
)
DEPOSIT_EN = Passage(
    id="deposit-en",
    title="Getting your deposit back",
    text=(
        "## Getting your deposit back\n\n"
        "You can get your key-card deposit back at any time, no questions asked. "
        "Hand the card in at the front desk. "
        "The desk starts the refund within 2 working days, and your bank posts it 3–5 working days later.\n\n"
        "| Option | Time |\n|---|---|\n"
        "| Member wallet | The deposit appears instantly |\n"
    ),
    language="en",
)


def test_a_chinese_how_long_question_gets_the_figure_not_only_the_instant_exception() -> None:
    # Words alone favour the "即时到账" row (it repeats "到账"); the customer asked how long: give the days.
    answer = compose_answer("那押金多久能到账？", [DEPOSIT_ZH], "zh").text
    assert "3–5" in answer, answer
    assert answer.endswith("。") and not any(c.isascii() and c.isalpha() for c in answer), answer


def test_an_english_how_long_question_gets_the_figure() -> None:
    answer = compose_answer("how long until my deposit reaches me?", [DEPOSIT_EN], "en").text
    assert "3–5" in answer or "2 working days" in answer, answer


def test_a_how_do_i_question_gets_the_instruction() -> None:
    # "You can get … back" repeats the question's words but says nothing about how; the desk sentence does.
    answer = compose_answer("how can I get my deposit back?", [DEPOSIT_EN], "en").text
    assert "front desk" in answer, answer


class _Embedder:
    """A stand-in for the KB's embedder: deterministic vectors, and a count of the texts embedded."""

    languages = {"en"}

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return np.array([[len(t) % 7 + 1.0, t.count(" ") + 1.0, 1.0] for t in texts], dtype=np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed_passages(texts)


class _Store:
    def __init__(self, units: list[Passage]) -> None:
        self.version = 1
        self.passages = units

    def live_version(self) -> int:
        return self.version

    def units(self, live: bool = False) -> dict[str, dict]:
        return {p.id: {"kind": "document", "language": p.language, "text": p.text} for p in self.passages}


class _KB:
    def __init__(self, units: list[Passage]) -> None:
        self.embedder = _Embedder()
        self.store = _Store(units)

    def live_version(self) -> int:
        return self.store.live_version()

    def live_units(self) -> dict[str, dict]:
        return self.store.units(live=True)


def test_prewarm_embeds_the_units_the_composer_quotes_so_first_questions_embed_nothing() -> None:
    kb = _KB([DEPOSIT_EN, DEPOSIT_ZH])
    assert prewarm(kb) > 0
    assert not any("押金" in t for t in kb.embedder.embedded)  # the embedder does not read Chinese
    before = len(kb.embedder.embedded)
    cache = passage_vectors(kb.embedder)
    question_vector = lambda texts: np.ones((len(texts), 3), np.float32)  # noqa: E731
    compose_answer("how long until my deposit reaches me?", [DEPOSIT_EN], "en", cache, question_vector)
    assert len(kb.embedder.embedded) == before  # every unit vector was already there


def test_a_newly_published_version_is_warmed_too() -> None:
    kb = _KB([DEPOSIT_EN])
    stop = threading.Event()
    thread = keep_warm(kb, every_s=0.05, stop=stop)
    try:
        _wait(lambda: len(passage_vectors(kb.embedder)) > 0)
        extra = Passage(id="hours", title="Hours", text="The gym opens at 6 am every day.", language="en")
        kb.store.passages = [DEPOSIT_EN, extra]
        kb.store.version = 2
        _wait(lambda: any("6 am" in t for t in kb.embedder.embedded))
    finally:
        stop.set()
        thread.join(timeout=5)


def _wait(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_unit_vectors_are_kept_next_to_the_kb_so_a_restart_embeds_nothing(tmp_path) -> None:
    class _Named(_Embedder):
        name, dim = "stand-in", 3

    first = _KB([DEPOSIT_EN])
    first.embedder, first.path = _Named(), tmp_path
    embedded = prewarm(first)
    assert embedded > 0 and list(tmp_path.glob("unit-vectors-stand-in-3.npz"))

    restarted = _KB([DEPOSIT_EN])  # a new process: a new embedder, an empty cache
    restarted.embedder, restarted.path = _Named(), tmp_path
    assert prewarm(restarted) == 0 and restarted.embedder.embedded == []
    assert len(passage_vectors(restarted.embedder)) == embedded

    (tmp_path / "unit-vectors-stand-in-3.npz").write_bytes(b"not a numpy file")  # damaged: embedded again
    again = _KB([DEPOSIT_EN])
    again.embedder, again.path = _Named(), tmp_path
    assert prewarm(again) == embedded
