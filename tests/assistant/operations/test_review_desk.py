"""Review items say why they were queued, in plain words, and show the bot's reply and its sources; a question
asked by many is one item with its count."""

from __future__ import annotations

from pathlib import Path

from assistant.config import load_settings
from assistant.conversations import ConversationStore
from assistant.operations.review_desk import ReviewDesk, why_queued
from training.review import ReviewQueue

SOURCE = {
    "id": "returns-en",
    "title": "Returns",
    "uri": "kb:en/returns",
    "snippet": "Within 30 days",
    "url": None,
}


def log(store: ConversationStore, message: str, reply: str, sources: list[dict] | None = None) -> str:
    session = store.session(None)
    turn = {
        "message": message,
        "reply": reply,
        "route": "fallback",
        "sources": sources or [],
        "language": "en",
    }
    return store.log_turn(session, turn)


def test_reason_codes_in_plain_words() -> None:
    assert why_queued("low_confidence,unanswered") == ["no answer found", "unsure which topic"]
    assert why_queued("thumbs_down,thumbs_down,refused_as_injection") == [
        "the customer rated it down",
        "refused as a possible injection",
    ]
    assert why_queued("handoff,something_new") == [
        "handed to a person after the bot could not help",
        "something_new",
    ]
    assert why_queued("") == []


def test_items_show_the_reply_its_sources_and_why_and_one_row_per_question(
    database_url: str | None, tmp_path: Path
) -> None:
    store = ConversationStore(tmp_path / "conversations.db", database_url=database_url)
    queue = ReviewQueue(tmp_path / "review.db", database_url=database_url)
    desk = ReviewDesk(load_settings(home=tmp_path / "home"), lambda: queue, lambda: None, lambda: store)
    gnomes = [log(store, "Do you sell garden gnomes?", f"Sorry, I don't know ({n}).") for n in range(3)]
    for n, turn_id in enumerate(gnomes):
        queue.add(
            turn_id, "do you sell garden gnomes? " if n == 2 else "Do you sell garden gnomes?", "unanswered"
        )
    queue.add(gnomes[0], "Do you sell garden gnomes?", "thumbs_down")  # the first customer rated it down
    returns = log(store, "how long to return", "You can return within 30 days.", [SOURCE])
    queue.add(returns, "how long to return", "low_confidence", predicted="return_policy", confidence=0.41)

    listed = desk.items("pending", 100, grouped=True)["items"]
    assert [i["text"].strip().lower() for i in listed] == ["how long to return", "do you sell garden gnomes?"]
    ret, gnome = listed
    assert ret["reply"] == "You can return within 30 days." and ret["route"] == "fallback"
    assert ret["sources"] == [{"id": "returns-en", "title": "Returns", "uri": "kb:en/returns", "url": None}]
    assert ret["why"] == ["unsure which topic"] and ret["copies"] == 1
    # The newest of the three copies stands for them all, with every copy's reasons.
    assert (
        gnome["turn_id"] == gnomes[2]
        and gnome["copies"] == 3
        and gnome["reply"] == "Sorry, I don't know (2)."
    )
    assert gnome["why"] == ["no answer found", "the customer rated it down"]

    # Ungrouped (the API's default): every copy, each with its own reply and reasons.
    every = [i for i in desk.items("pending", 100)["items"] if "gnome" in i["text"].lower()]
    assert len(every) == 3 and {i["reply"] for i in every} == {
        f"Sorry, I don't know ({n})." for n in range(3)
    }
    assert {tuple(i["why"]) for i in every} == {
        ("no answer found",),
        ("no answer found", "the customer rated it down"),
    }

    # One item read alone is explained the same way; resolved copies leave the group.
    assert desk.get(gnome["id"])["why"] == ["no answer found", "the customer rated it down"]
    desk.resolve(gnome["id"], None, same_text=True)
    assert [i["text"] for i in desk.items("pending", 100, grouped=True)["items"]] == ["how long to return"]
    discarded = desk.items("discarded", 100, grouped=True)["items"]
    assert len(discarded) == 1 and discarded[0]["copies"] == 0


def test_items_whose_conversation_is_gone_still_list(tmp_path: Path) -> None:
    queue = ReviewQueue(tmp_path / "review.db")
    queue.add("gone", "where is my parcel", "unanswered")
    for turns in (None, lambda: None):
        desk = ReviewDesk(load_settings(home=tmp_path / "home"), lambda: queue, lambda: None, turns)
        (item,) = desk.items()["items"]
        assert item["reply"] is None and item["sources"] == [] and item["why"] == ["no answer found"]
