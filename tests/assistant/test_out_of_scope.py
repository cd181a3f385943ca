"""Out of scope stays out: a loosely related passage does not answer a question the knowledge base does not
cover, while covered questions (even with a middling score) are answered. A small library knowledge base,
nothing like the demo store, and no intent model: retrieval alone decides."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import RoutingSettings, load_settings
from assistant.pipeline import Assistant
from assistant.scope import answering, template_fits
from knowledge import Hit, Template

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


# -- template answers: the intent's own examples must cover the question ------------------------------------
LIBRARY_INTENTS = """text,intent,language
how do I renew my books,renew_loan,en
can I extend my loan,renew_loan,en
renew a library book online,renew_loan,en
how many times can I renew,renew_loan,en
我想续借这本书,renew_loan,zh
借的书可以续借几次,renew_loan,zh
"""
RENEW = Template(
    id="tpl-renew",
    intent="renew_loan",
    language="en",
    title="Renewing a loan",
    answer="Renew a loan twice online under My account > Loans, unless someone reserved the book.",
)


@pytest.fixture
def settings_with_intent_data(tmp_path: Path):
    settings = load_settings(home=tmp_path / "home", generator={"backend": "none"})
    data = settings.intents_dir / "data"
    data.mkdir(parents=True)
    (data / "library.csv").write_text(LIBRARY_INTENTS, encoding="utf-8")
    return settings


@pytest.mark.parametrize(
    "question", ["can I renew my books online?", "how often can I extend a loan?", "这本书能续借吗"]
)
def test_a_template_answers_questions_of_its_intent(settings_with_intent_data, question: str) -> None:
    assert template_fits(question, RENEW, settings_with_intent_data)[0]


@pytest.mark.parametrize(
    "question", ["can I renew my passport here?", "how do I extend my car lease?", "能帮我续签护照吗"]
)
def test_a_template_does_not_answer_a_nearby_question_it_does_not_cover(
    settings_with_intent_data, question: str
) -> None:
    assert not template_fits(question, RENEW, settings_with_intent_data)[0]


@pytest.mark.parametrize(
    "question",
    [
        "旧手机可以卖给你们换现金吗？",
        "旧电视可以以旧换新吗？",
        "不是在你们这买的冰箱坏了，能帮忙修吗？",
    ],
)
def test_the_demo_does_not_answer_off_topic_questions_from_a_nearby_template(
    demo_assistant, question: str
) -> None:
    """The classifier is confident about a nearby intent (exchanges, repairs); its template
    must not answer."""
    r = demo_assistant.chat(question)
    assert r.route not in ("template", "rag"), (question, r.route, r.reply)


@pytest.mark.parametrize(
    "question",
    ["can I pay in installments", "能寄到英国吗", "my blender just showed up and the glass jug is cracked"],
)
def test_the_demo_still_answers_its_own_template_questions(demo_assistant, question: str) -> None:
    assert demo_assistant.chat(question).route in ("template", "rag")


def _hit(kind: str, score: float, intent: str | None, text: str = "Report it within 48 hours.") -> Hit:
    return Hit(
        id=f"{kind}-{intent}",
        kind=kind,
        title="t",
        uri="u",
        snippet=text,
        text=text,
        score=score,  # type: ignore[arg-type]
        language="en",
        intent=intent,
    )


def test_an_off_topic_verdict_yields_to_retrieval_finding_the_nearest_intents_template() -> None:
    """The classifier calls "the glass jug is cracked, what do I do?" out of scope but ranks damaged_item
    first among the intents it knows; retrieval finds damaged_item's template fairly (0.50): the two agree."""
    cfg = RoutingSettings()
    question = "my blender just showed up and the glass jug is cracked. what do I do?"
    template = _hit("template", 0.50, "damaged_item")
    other = _hit("template", 0.50, "repair_request")
    document = _hit("document", 0.50, None)
    assert answering(question, [template, other, document], cfg, oos=True, nearest="damaged_item") == [
        template
    ]
    assert answering(question, [template, other, document], cfg, oos=True) == []
    # Agreement does not lower the floor: a weak match of the same template still falls back.
    weak = _hit("template", cfg.oos_covered_min_score - 0.05, "damaged_item")
    assert answering(question, [weak], cfg, oos=True, nearest="damaged_item") == []
