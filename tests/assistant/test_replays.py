"""Idempotent turns (`client_message_id`): a retry of a message gets the turn already logged, with nothing done
a second time (no log row, review item, handoff event or session change); the key used for another message or
session is a conflict; two copies of one message racing (threads, each on its own engine) log one turn. On
SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.conversations import HANDOFF, ConversationStore, DuplicateTurn
from assistant.pipeline import Assistant, MessageIdConflict
from training.review import ReviewQueue

ANGRY = (
    "THIS IS THE WORST SERVICE EVER, USELESS!! my parcel is late again"  # handoff: an event, a review item
)
UNANSWERED = "my cat ate the charger cable, does the warranty cover pets?"


def key() -> str:
    return uuid.uuid4().hex


class Events(list):
    def __call__(self, kind: str, payload: dict[str, Any]) -> None:
        self.append((kind, payload))


def on_own_log(assistant: Assistant, url: str | None, folder: Path) -> Assistant:
    """The loaded demo assistant (models, knowledge base) with a conversation log and review queue of its own
    (SQLite files in `folder`, or the PostgreSQL database `url`), its events recorded in `.listeners[0]`."""
    other = copy.copy(assistant)
    other.store = ConversationStore(folder / "conversations.db", database_url=url)
    other.review = ReviewQueue(folder / "review.db", database_url=url)
    other.listeners = [Events()]
    return other


@pytest.fixture
def bot(demo_assistant: Assistant, database_url: str | None, tmp_path: Path) -> Iterator[Assistant]:
    a = on_own_log(demo_assistant, database_url, tmp_path)
    yield a
    a.store.close()
    a.review.close()


def test_a_retry_gets_the_stored_turn_and_nothing_happens_twice(bot: Assistant) -> None:
    events, store = bot.listeners[0], bot.store
    angry = key()
    first = bot.chat(ANGRY, None, angry)
    assert first.route == "handoff" and [k for k, _ in events] == ["handoff", "review_item"]
    state = (store.session_row(first.session_id), bot.review.counts(), store.counts())
    assert store.turn(first.message_id)["client_message_id"] == angry

    again = bot.chat(ANGRY, None, angry)  # the client never saw the first reply: no session id yet
    assert again == first
    assert bot.chat(ANGRY, first.session_id, angry).message_id == first.message_id  # or it had it
    assert (store.session_row(first.session_id), bot.review.counts(), store.counts()) == state
    assert len(events) == 2 and store.session(first.session_id).status == HANDOFF

    # A streamed retry streams the stored reply; a retry of a turn with sources gets the same sources.
    answered = bot.chat("How do I reset my password?", None, sourced := key())
    assert answered.sources
    streamed = list(
        bot.chat_stream("How do I reset my password?", answered.session_id, client_message_id=sourced)
    )
    assert "".join(v for k, v in streamed if k == "token") == answered.reply
    final = streamed[-1][1]
    assert streamed[-1][0] == "final" and (final.message_id, final.sources) == (
        answered.message_id,
        answered.sources,
    )
    assert store.counts()["turns"] == state[2]["turns"] + 1


def test_the_message_compared_is_the_stored_redacted_one(bot: Assistant) -> None:
    said = "  my card 4111 1111 1111 1111 was declined  "
    first = bot.chat(said, None, k := key())
    assert bot.store.turn(first.message_id)["message"] == "my card [CARD] was declined"
    assert bot.chat(said.strip(), first.session_id, k).message_id == first.message_id
    assert bot.store.counts()["turns"] == 1


def test_the_same_key_for_another_message_or_session_is_a_conflict(bot: Assistant) -> None:
    k = key()
    first = bot.chat("How much is express shipping?", None, k)
    other = bot.chat("Do gift cards expire?", None, key())
    for message, session_id in [
        ("Do gift cards expire?", first.session_id),  # another message
        ("How much is express shipping?", other.session_id),  # another live session
    ]:
        with pytest.raises(MessageIdConflict):
            bot.chat(message, session_id, k)
        with pytest.raises(MessageIdConflict):
            bot.replay(message, session_id, k)  # the streamed path's check, before its stream starts
    # A key that answered a session's second turn is not a new session's first.
    bot.chat("And to Canada?", first.session_id, k2 := key())
    for session_id in (None, "gone-or-expired-session"):
        with pytest.raises(MessageIdConflict):
            bot.chat("And to Canada?", session_id, k2)
    # A request naming a session that is gone started a new one: its retry finds that turn.
    fresh = bot.chat("Do you ship to Canada?", "gone-or-expired-session", k3 := key())
    assert fresh.session_id != "gone-or-expired-session"
    assert bot.chat("Do you ship to Canada?", "gone-or-expired-session", k3).message_id == fresh.message_id
    assert bot.store.counts()["turns"] == 4


def test_concurrent_copies_of_one_message_log_one_turn(
    demo_assistant: Assistant, database_url: str | None, tmp_path: Path
) -> None:
    """Two replicas (each its own engine) get the same message at once: one turn is logged, both answer it."""
    second_url = f"{database_url}?application_name=replica-two" if database_url else None
    replicas = [on_own_log(demo_assistant, url, tmp_path) for url in (database_url, second_url)]
    k, barrier = key(), threading.Barrier(2)
    replies: list[Any] = []

    def send(a: Assistant) -> None:
        barrier.wait()
        replies.append(a.chat("Do you price match if I find it cheaper elsewhere?", None, k))

    threads = [threading.Thread(target=send, args=(a,)) for a in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(replies) == 2 and replies[0].message_id == replies[1].message_id
    assert replies[0].session_id == replies[1].session_id
    assert replicas[0].store.counts() == {"turns": 1, "sessions": 1}
    for a in replicas:
        a.store.close()
        a.review.close()


def test_the_losing_insert_writes_nothing(database_url: str | None, tmp_path: Path) -> None:
    """The store's side of the race: the second turn with a key hits the unique index, and its session's
    write is rolled back with it."""
    store = ConversationStore(tmp_path / "c.db", database_url=database_url)
    k = key()
    winner, loser = store.session(None), store.session(None)
    store.log_turn(winner, {"message": "hi", "reply": "hello", "route": "smalltalk", "client_message_id": k})
    loser.topic = "hi"
    with pytest.raises(DuplicateTurn):
        store.log_turn(
            loser, {"message": "hi", "reply": "hello!", "route": "smalltalk", "client_message_id": k}
        )
    assert store.session_row(loser.id) is None and store.counts() == {"turns": 1, "sessions": 1}
    assert store.turn_by_client_id(k)["session_id"] == winner.id
    # Turns without a key: any number of them.
    for _ in range(2):
        store.log_turn(winner, {"message": "again", "reply": "", "route": "fallback"})
    assert store.counts()["turns"] == 3
    store.close()


def test_lepton_db_migrate_carries_the_keys(postgres_url: str, tmp_path: Path) -> None:
    """The copier under `lepton db migrate` moves `client_message_id` with its turn, and the key still holds on
    the target: a retry there after the move finds the turn."""
    from knowledge.database.copying import copy_tables, store_tables

    source = ConversationStore(tmp_path / "c.db")
    session, k = source.session(None), key()
    logged = source.log_turn(
        session, {"message": "hi", "reply": "hello", "route": "smalltalk", "client_message_id": k}
    )
    target = ConversationStore(tmp_path / "unused.db", database_url=postgres_url)
    with target.engine.begin() as conn:
        copy_tables(source.engine, conn, store_tables("conversations"))
    assert target.turn_by_client_id(k)["id"] == logged
    with pytest.raises(DuplicateTurn):
        target.log_turn(
            target.session(session.id), {"message": "hi", "route": "smalltalk", "client_message_id": k}
        )
    source.close()
    target.close()
