"""A session belongs to the database, not to a process: an agent's action made while a customer's turn runs
stands (the turn writes back only what it changed), and a conversation started through one store continues
through another (another engine, another process) with its topic, slots and handoff state."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.conversations import CLOSED, HANDOFF, OPEN, ConversationStore, Session
from training.review import ReviewQueue

ROOT = Path(__file__).resolve().parents[2]


def turn(store: ConversationStore, session: Session, message: str = "hello?", route: str = "handoff") -> str:
    return store.log_turn(session, {"message": message, "reply": "", "route": route, "language": "en"})


def waiting(store: ConversationStore) -> str:
    """A session handed to a person, nobody's yet, the customer not yet told."""
    session = store.session(None)
    session.start_waiting()
    turn(store, session, "I want a person")
    return session.id


@pytest.mark.parametrize("action", ["assign", "close"])
def test_an_agents_assign_or_close_during_a_customer_turn_stands(
    action: str, database_url: str | None, tmp_path: Path
) -> None:
    store = ConversationStore(tmp_path / "c.db", database_url=database_url)
    sid = waiting(store)
    read = store.session(sid)  # the customer's turn has read its session...
    if action == "assign":  # ...and meanwhile an agent picks it up, or closes it
        assert store.assign(sid, "dana", waiting=True)
    else:
        assert store.close_handoff(sid, "Thanks, we are done here.", "dana") is not None
    read.told_waiting = True  # what the turn changed itself
    read.slots, read.topic = {"order_id": "KH-20481937"}, "where is my order"
    turn(store, read, "it's about KH-20481937")
    after = store.session(sid)
    assert (after.slots, after.topic) == ({"order_id": "KH-20481937"}, "where is my order")
    if action == "assign":
        assert (after.status, after.agent, after.told_waiting) == (HANDOFF, "dana", True)
    else:  # the agent's close stands: the bot answers the next message
        assert (after.status, after.failures) == (CLOSED, 0)


def test_a_takeover_during_a_turn_stands_and_a_handoff_the_turn_starts_takes_no_agents_session(
    database_url: str | None, tmp_path: Path
) -> None:
    store = ConversationStore(tmp_path / "c.db", database_url=database_url)
    session = store.session(None)
    turn(store, session, "how do refunds work", route="rag")
    sid = session.id

    read = store.session(sid)  # an answered turn: the bot still has the session when it reads it
    assert store.set_status(sid, HANDOFF)  # an agent takes it over meanwhile
    read.topic, read.failures = "how do refunds work for gift cards", 0
    turn(store, read, "and for gift cards?", route="rag")
    taken = store.session(sid)
    assert taken.status == HANDOFF and taken.waiting_since and taken.topic == read.topic

    other = store.session(None)
    turn(store, other, "this is useless", route="fallback")
    read = store.session(other.id)
    assert store.set_status(other.id, HANDOFF) and store.assign(other.id, "erin")  # the agent first
    read.failures = 3
    read.start_waiting()  # the turn hands off too: the agent's assignment is not undone
    turn(store, read, "useless!!", route="handoff")
    assert (store.session(other.id).agent, store.session(other.id).failures) == ("erin", 3)


def test_reopening_a_closed_session_does_not_undo_a_new_takeover(
    database_url: str | None, tmp_path: Path
) -> None:
    store = ConversationStore(tmp_path / "c.db", database_url=database_url)
    sid = waiting(store)
    store.close_handoff(sid, "Bye for now.", "dana")
    read = store.session(sid)
    assert read.status == CLOSED
    store.set_status(sid, HANDOFF)  # taken over again before the customer's next turn is written
    read.status = OPEN  # the pipeline reopens a closed session for the bot
    turn(store, read, "one more question", route="rag")
    assert store.session(sid).status == HANDOFF
    # Nobody took it over: the customer's next message reopens it for the bot.
    store.close_handoff(sid, "Bye again.", "dana")
    read = store.session(sid)
    read.status = OPEN
    turn(store, read, "one more question", route="rag")
    assert store.session(sid).status == OPEN


def test_two_agents_closing_at_once_send_one_closing_message(
    database_url: str | None, tmp_path: Path
) -> None:
    store = ConversationStore(tmp_path / "c.db", database_url=database_url)
    sid = waiting(store)
    assert store.close_handoff(sid, "Bye.", "dana") is not None
    assert store.close_handoff(sid, "Bye.", "erin") is None
    assert [m["agent"] for m in store.agent_messages(sid)] == ["dana"]


CONTINUE = """
import json, sys
from pathlib import Path
from assistant.conversations import ConversationStore
url, home, sid, waiting = sys.argv[1:5]
store = ConversationStore(Path(home) / "conversations.db", database_url=url)
s, w = store.session(sid), store.session(waiting)
seen = {k: getattr(s, k) for k in ("id", "language", "topic", "slots", "pending", "offer", "failures")}
seen["waiting"] = {k: getattr(w, k) for k in ("id", "status", "agent", "told_waiting")}
seen["history"] = [t["message"] for t in store.history(sid)]
seen = json.dumps(seen)  # before this replica's turn changes the session
s.slots["order_id"], s.pending, s.offer = "KH-20481937", None, None
store.log_turn(s, {"message": "it's KH-20481937", "reply": "On its way.", "route": "template"})
print(seen)
"""


def test_a_conversation_continues_in_another_process(postgres_url: str, tmp_path: Path) -> None:
    """Replica A starts a conversation; replica B (its own process, engine and home) reads its context and
    continues it; A then sees B's turn and changes. Nothing is kept in either process."""
    here = ConversationStore(tmp_path / "a" / "conversations.db", database_url=postgres_url)
    session = here.session(None)
    session.language, session.topic, session.offer = "zh", "我的订单在哪里", "handoff"
    session.pending = {"template_id": "tpl-order-status-zh", "slot": "order_id", "intent": "order_status"}
    here.log_turn(session, {"message": "我的订单在哪里", "reply": "请告诉我订单号。", "route": "template"})
    sid = waiting(here)
    here.assign(sid, "dana")

    run = subprocess.run(
        [sys.executable, "-c", CONTINUE, postgres_url, str(tmp_path / "b"), session.id, sid],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["id"] == session.id and seen["history"] == ["我的订单在哪里"]
    assert (seen["language"], seen["topic"], seen["offer"]) == ("zh", "我的订单在哪里", "handoff")
    assert seen["pending"] == session.pending and seen["slots"] == {}
    assert seen["waiting"] == {"id": sid, "status": HANDOFF, "agent": "dana", "told_waiting": False}

    back = here.session(session.id)
    assert back.slots == {"order_id": "KH-20481937"} and back.pending is None and back.offer is None
    assert [t["message"] for t in here.history(session.id)] == ["我的订单在哪里", "it's KH-20481937"]
    assert here.counts() == {"turns": 3, "sessions": 2}
    assert not (tmp_path / "b").exists()  # B kept nothing in its home


def replica(assistant, url: str, home: Path):
    """The loaded demo assistant as another replica: its models, its own engine on the shared database."""
    other = copy.copy(assistant)
    other.store = ConversationStore(home / "conversations.db", database_url=url)
    other.review = ReviewQueue(home / "review.db", database_url=url)
    other.listeners = []
    return other


@pytest.mark.slow
def test_the_assistant_continues_a_conversation_on_another_replica(
    demo_assistant, postgres_url: str, tmp_path: Path
) -> None:
    one = replica(demo_assistant, postgres_url, tmp_path / "one")
    # Another pool: a different URL is a different engine, as in another process.
    two = replica(demo_assistant, f"{postgres_url}?application_name=replica-two", tmp_path / "two")
    assert one.store.engine is not two.store.engine

    asked = one.chat("where is my order? it's been a few days")  # a slot asked for on one...
    assert "KH-" in asked.reply
    filled = two.chat("it's KH-20481937", asked.session_id)  # ...filled on the other
    assert filled.route == "template" and "KH-20481937" in filled.reply

    first = two.chat("Can I pay in instalments with Klarna?")  # a topic from one replica...
    follow = one.chat("and what's the minimum order for that?", first.session_id)
    assert "Klarna" in one.store.turn(follow.message_id)["trace"].get("rewritten", "")

    handed = one.chat("I want to talk to a real person")  # ...and a handoff
    assert handed.route == "handoff"
    told = two.chat("hello?", handed.session_id)
    assert told.route == "handoff" and told.reply  # told once that a person will answer
    quiet = one.chat("anyone there?", handed.session_id)
    assert quiet.route == "handoff" and quiet.reply == ""
    assert one.store.counts() == two.store.counts() == {"turns": 7, "sessions": 3}
