"""Conversations that follow the customer: offers taken up or declined, follow-ups rewritten only when they
lean on the previous question, and contact details answered rather than handed off."""

from __future__ import annotations

import re

import pytest

from assistant import messages
from assistant.conversations import HANDOFF
from assistant.dialogue import answer_to_offer, asks_for_contact_details, contact_hits
from assistant.guardrails import asks_for_human, is_follow_up, rewrite_follow_up
from knowledge import Hit

CJK = re.compile(r"[\u4e00-\u9fff]")


# -- in the customer's words (no models) ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    ["yes please", "Yes!", "sure", "ok", "OK, thanks", "yes", "please do", "好的", "可以", "是的", "要"],
)
def test_accepting_an_offer(text: str) -> None:
    assert answer_to_offer(text) is True


@pytest.mark.parametrize(
    "text", ["no thanks", "No.", "nope, I'm good", "not now", "不用了", "不要", "不需要，谢谢"]
)
def test_declining_an_offer(text: str) -> None:
    assert answer_to_offer(text) is False


@pytest.mark.parametrize(
    "text",
    ["thanks", "no problem, where is my order?", "yes, and how do I reset my password?", "退货运费谁出"],
)
def test_anything_else_is_not_an_answer_to_the_offer(text: str) -> None:
    assert answer_to_offer(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "what's your phone number",
        "how can I email you",
        "need someone to tell me the phone number",
        "when is phone support open",
        "what's the number to talk to a person?",
        "你们客服电话多少",
        "客服邮箱是多少",
        "真人客服什么时候上班",
    ],
)
def test_questions_for_contact_details_are_not_requests_for_a_person(text: str) -> None:
    assert asks_for_contact_details(text) and not asks_for_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "how do I change the phone number on my account",
        "Does the warranty cover it if I drop my phone?",
        "can I pay by phone",
        "账户绑定的手机号换了，在哪里改？",
        "I didn't get a confirmation email",
        "do you sell mobile phone contracts?",
        "will you call me when my order ships?",
    ],
)
def test_the_customers_own_details_are_not_contact_questions(text: str) -> None:
    assert not asks_for_contact_details(text)


@pytest.mark.parametrize(
    "text",
    [
        "do you sell phone cases?",
        "do you do email marketing for small businesses?",
        "can you print address labels for my parcels?",
        "do you sell contact lenses?",
        "你们卖手机壳吗",
        "有电话手表吗",
        "儿童电话手表有货吗",
        "电话卡在哪里买",
    ],
)
def test_products_named_like_contact_words_are_not_contact_questions(text: str) -> None:
    assert not asks_for_contact_details(text)


@pytest.mark.parametrize(
    "text",
    [
        "你们电话多少",
        "周末能打电话找客服吗",
        "can I reach you by phone?",
        "phone number for customer service?",
    ],
)
def test_contact_words_before_a_datum_or_a_verb_still_ask_for_contact(text: str) -> None:
    assert asks_for_contact_details(text)


@pytest.mark.parametrize("text", ["I want to talk to a person", "转人工", "get me a customer service agent"])
def test_explicit_requests_for_a_person_still_count(text: str) -> None:
    assert asks_for_human(text)


def _hit(id_: str, text: str) -> Hit:
    return Hit(id=id_, kind="document", title=id_, uri=id_, snippet="", text=text, score=0.6, language="en")


def test_contact_passages_of_another_domain_are_cut_to_the_data_asked() -> None:
    """A bike shop whose numbers look nothing like the demo's: the passage that states the number wins over a
    closer-worded one that does not, and only the sentence or table row stating it is kept."""
    profile = _hit("profile", "Change the phone number on your profile under Settings > Contact.")
    workshop = _hit(
        "workshop",
        "Bring your bike in any weekday. Questions? Ring the workshop on +44 20 7946 0958 (Mon-Fri, 9 am - 5 pm).",
    )
    table = _hit(
        "contact",
        "We love hearing from riders.\n\n| Channel | When |\n|---|---|\n| Phone: 020 7946 0000 | 9 am - 5 pm |\n"
        "| Email: help@spokes.example | Any time |\n\nVisit the shop for test rides.",
    )
    phone = contact_hits([profile, workshop, table], "what's your phone number?", limit=3)
    assert [h.id for h in phone] == ["workshop", "contact"]
    assert phone[0].text == "Ring the workshop on +44 20 7946 0958 (Mon-Fri, 9 am - 5 pm)."
    assert phone[1].text == "| Channel | When |\n|---|---|\n| Phone: 020 7946 0000 | 9 am - 5 pm |"
    email = contact_hits([profile, workshop, table], "how can I email you?", limit=3)
    assert [h.id for h in email] == ["contact"] and "help@spokes.example" in email[0].text
    assert "Phone" not in email[0].text


@pytest.mark.parametrize(
    "text",
    [
        "and how long does that take?",
        "what about express?",
        "is that covered?",
        "那要多久呢",
        "这个多少钱",
        "它能退吗",
    ],
)
def test_messages_that_lean_on_the_previous_one(text: str) -> None:
    assert is_follow_up(text)


@pytest.mark.parametrize(
    "text",
    [
        "is this laptop in stock",
        "I bought the phone 3 weeks ago, can I still add that protection plan?",
        "that's great, thanks",
        "这个耳机多少钱",
        "How long does a refund take after the warehouse receives my return?",
    ],
)
def test_messages_with_a_topic_of_their_own(text: str) -> None:
    assert not is_follow_up(text)


def test_a_follow_up_that_retrieves_well_alone_is_not_rewritten() -> None:
    confident = lambda query: True  # noqa: E731 - what retrieval says of the message alone
    previous = "How do I return a lamp?"
    assert rewrite_follow_up("how long does it take to get a refund", previous, confident) == (
        "how long does it take to get a refund"
    )
    # No topic of its own ("how much does it cost?") or a fragment ("and express?"): always the previous one's.
    assert rewrite_follow_up("how much does it cost?", previous, confident).startswith(previous)
    assert rewrite_follow_up("and express?", previous, confident).startswith(previous)
    assert rewrite_follow_up("how long does it take to get a refund", previous, lambda q: False).startswith(
        previous
    )


# -- the assistant on the demo (real models, in-process) ------------------------------------------------------
@pytest.fixture
def chat(demo_assistant):
    def send(*texts: str):
        session, replies = None, []
        for text in texts:
            reply = demo_assistant.chat(text, session)
            session = reply.session_id
            replies.append(reply)
        return replies

    return send


@pytest.mark.slow
@pytest.mark.parametrize(
    "question, yes", [("what's the capital of Peru?", "yes please"), ("明天北京天气怎么样？", "好的")]
)
def test_accepting_the_offered_person_hands_off(demo_assistant, chat, question: str, yes: str) -> None:
    offer, answer = chat(question, yes)
    assert offer.route == "fallback"
    assert answer.route == "handoff" and demo_assistant.store.session(answer.session_id).status == HANDOFF


@pytest.mark.slow
@pytest.mark.parametrize(
    "question, no, language",
    [("what's the capital of Peru?", "no thanks", "en"), ("明天北京天气怎么样？", "不用了", "zh")],
)
def test_declining_the_offered_person_carries_on_politely(
    demo_assistant, chat, question: str, no: str, language: str
) -> None:
    offer, answer = chat(question, no)
    assert offer.route == "fallback"
    assert answer.route != "handoff" and demo_assistant.store.session(answer.session_id).status != HANDOFF
    assert answer.reply == messages.text("offer_declined", language)
    assert bool(CJK.search(answer.reply)) == (language == "zh")
    after = chat("How much does express shipping cost?")[0]
    assert after.route == "template"


@pytest.mark.slow
def test_yes_without_an_offer_is_not_a_handoff(chat) -> None:
    assert chat("yes")[0].route != "handoff"
    # The offer lapses after one message: a question in between, then "yes", is no answer to it.
    replies = chat("what's the capital of Peru?", "How much does express shipping cost?", "yes")
    assert [r.route for r in replies][:2] == ["fallback", "template"] and replies[2].route != "handoff"


@pytest.mark.slow
@pytest.mark.parametrize(
    "first, second, source",
    [
        ("How do I return a lamp?", "can I pay for it with PayPal?", "payment"),
        ("How do I reset my password?", "how long does it take to get a refund", "refund"),
    ],
)
def test_an_unrelated_question_with_it_is_not_rewritten(
    demo_assistant, chat, first: str, second: str, source: str
) -> None:
    replies = chat(first, second)
    trace = demo_assistant.store.turn(replies[1].message_id)["trace"]
    assert "rewritten" not in trace
    assert replies[1].route in ("template", "rag")
    assert any(source in (s.id + s.uri).lower() for s in replies[1].sources), replies[1].sources


@pytest.mark.slow
def test_a_new_topic_starts_clean(demo_assistant, chat) -> None:
    """After an unanswered new question, a follow-up leans on it, not on the question answered before it."""
    replies = chat(
        "Can I pay in instalments with Klarna?", "what's the capital of Peru?", "and what about it?"
    )
    trace = demo_assistant.store.turn(replies[2].message_id)["trace"]
    assert "Klarna" not in trace.get("rewritten", "")


@pytest.mark.slow
def test_a_genuine_follow_up_is_still_rewritten(demo_assistant, chat) -> None:
    replies = chat("how do I return a lamp", "and how long does that take?")
    trace = demo_assistant.store.turn(replies[1].message_id)["trace"]
    assert trace.get("rewritten", "").startswith("how do I return a lamp")


@pytest.mark.slow
@pytest.mark.parametrize(
    "question, language",
    [
        ("what's your phone number", "en"),
        ("need someone to tell me the phone number", "en"),
        ("你们客服电话多少", "zh"),
    ],
)
def test_contact_details_are_answered_with_a_person_offered(
    demo_assistant, chat, question: str, language: str
) -> None:
    reply, yes = chat(question, "yes" if language == "en" else "好的")
    assert reply.route == "rag" and "1-800-555-0199" in reply.reply
    assert reply.reply.endswith(messages.text("offer_person", language))
    assert reply.sources and "contact-us" in reply.sources[0].uri
    assert yes.route == "handoff"


@pytest.mark.slow
def test_email_question_gets_the_address(chat) -> None:
    reply = chat("how can I email you?")[0]
    assert reply.route == "rag" and "support@kestrel.example" in reply.reply
