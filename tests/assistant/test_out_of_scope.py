"""Out of scope stays out: a loosely related passage does not answer a question the knowledge base does not
cover, while covered questions (even with a middling score) are answered. A small library knowledge base,
nothing like the demo store, and no intent model: retrieval alone decides."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import load_settings
from assistant.pipeline import Assistant

pytestmark = pytest.mark.slow

LIBRARY = {
    "borrowing.md": """---
title: Borrowing books
language: en
---
You can borrow up to 12 books at a time with a library card. The loan period is 3 weeks, and you can renew a
loan twice online under **My account > Loans**, unless someone has reserved the book.

## Late returns

Books returned late cost 25 cents per day, up to $5 per book. Children's cards never pay late fees.
""",
    "cards.md": """---
title: Getting a library card
language: en
---
A library card is free for everyone who lives, works or studies in the city. Bring a photo ID and proof of
address to any branch desk. Lost cards are replaced for $2.

## Opening hours

All branches are open Monday to Saturday from 9:00 am to 8:00 pm, and Sunday from noon to 5:00 pm.
""",
    "rooms.md": """---
title: Study rooms and printing
language: en
---
Study rooms for up to 6 people can be booked for 2 hours a day under **My account > Rooms**. Printing costs
10 cents a page in black and white and 50 cents in colour; pay at the printer with your card.
""",
}


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    root = tmp_path_factory.mktemp("library")
    docs = root / "docs"
    docs.mkdir()
    for name, text in LIBRARY.items():
        (docs / name).write_text(text, encoding="utf-8")
    a = Assistant(load_settings(home=root / "home", generator={"backend": "none"}))
    a.warm_up()
    assert a.kb is not None and a.intents is None
    assert a.kb.ingest([Path(docs)]).errors == []
    return a


@pytest.mark.parametrize(
    "question",
    [
        "do you sell gift vouchers for bookshops?",  # lands on "Borrowing books" with a middling score
        "can you recommend a good dentist near me?",
        "can I book a tennis court?",
    ],
)
def test_a_question_the_knowledge_base_does_not_cover_falls_back(library: Assistant, question: str) -> None:
    r = library.chat(question)
    assert r.route == "fallback" and r.sources == [], (question, r.reply)


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("how many books can I borrow?", "12 books"),
        ("what are the opening hours on Sunday?", "noon to 5:00 pm"),  # a middling score, but covered
        ("how much is the late fee for a book?", "25 cents"),
    ],
)
def test_a_covered_question_is_answered(library: Assistant, question: str, fact: str) -> None:
    r = library.chat(question)
    assert r.route == "rag" and fact in r.reply, (question, r.reply)
