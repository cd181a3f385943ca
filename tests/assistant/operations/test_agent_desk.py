"""The agent desk on the demo assistant: order numbers mentioned (the knowledge base's slot patterns), canned
replies in the customer's language, and a handoff that starts afresh each time."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect

from assistant.conversations import CLOSED, HANDOFF, ConversationStore
from assistant.operations import Conflict, operations_for


def test_order_numbers_mentioned_are_found_by_the_slot_patterns(demo_assistant) -> None:
    desk = operations_for(demo_assistant).agents
    first = demo_assistant.chat("I need to speak to a real person")
    sid = first.session_id
    demo_assistant.chat("it's about order kh-20481937 and also KH-55501234", sid)
    demo_assistant.chat("the first one, KH-20481937, again", sid)
    ctx = desk.context(sid)
    assert ctx["mentioned"]["order_id"] == ["KH-20481937", "KH-55501234"]
    assert ctx["language"] == "en" and ctx["agent"] is None and ctx["waiting_since"]


def test_canned_replies_are_the_templates_in_the_customers_language(demo_assistant) -> None:
    desk = operations_for(demo_assistant).agents
    zh = demo_assistant.chat("我要人工客服")
    replies = desk.canned(zh.session_id)
    assert replies and all(r["language"] == "zh" for r in replies)
    en = demo_assistant.chat("I want to talk to a real person")
    replies = desk.canned(en.session_id)
    assert replies and all(r["language"] == "en" for r in replies)
    assert any("{" not in r["text"] for r in replies)


def test_each_handoff_waits_afresh_for_nobody(demo_assistant) -> None:
    store, desk = demo_assistant.store, operations_for(demo_assistant).agents
    sid = demo_assistant.chat("I want to talk to a real person").session_id
    first = store.session(sid)
    assert first.status == HANDOFF and first.waiting_since and not first.told_waiting
    desk.assign(sid, "dana")
    assert demo_assistant.chat("hello?", sid).reply
    assert store.session(sid).told_waiting and store.session(sid).agent == "dana"
    desk.close(sid, "dana")
    desk.takeover(sid)  # an agent takes it over again: a new wait, nobody's yet, the customer not yet told
    again = store.session(sid)
    assert again.agent is None and not again.told_waiting and again.waiting_since > first.waiting_since
    assert demo_assistant.chat("hello again?", sid).reply


def test_a_home_from_before_the_agent_desk_gets_its_columns(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "create table sessions (id text primary key, created_at float, updated_at float, language text,"
        " status text, failures integer, slots text, pending text, topic text)"
    )
    conn.execute("insert into sessions values ('s1', 1, 1, 'en', 'handoff', 0, '{}', null, null)")
    conn.commit()
    conn.close()
    store = ConversationStore(path, session_ttl_s=1e12)
    assert {"agent", "waiting_since", "told_waiting"} <= {
        c["name"] for c in inspect(store.engine).get_columns("sessions")
    }
    assert store.assign("s1", "dana")
    session = store.session("s1")
    assert session.agent == "dana" and session.waiting_since is None and not session.told_waiting
    assert store.sessions_with_status(HANDOFF)[0]["waiting_since"] == 1


def test_an_agents_assign_or_close_while_the_customers_turn_runs_stands(demo_assistant, monkeypatch) -> None:
    """The turn reads its session, the agent acts, then the turn is logged: the agent's change stays (the
    previous release wrote the whole session row back, undoing it)."""
    store, desk = demo_assistant.store, operations_for(demo_assistant).agents
    sid = demo_assistant.chat("I want to talk to a real person").session_id
    log_turn = store.log_turn

    def agent_first(action):
        def logged(session, turn):  # between the turn's read of its session and its write
            action()
            return log_turn(session, turn)

        return logged

    monkeypatch.setattr(store, "log_turn", agent_first(lambda: desk.assign(sid, "dana")))
    assert demo_assistant.chat("hello? anyone?", sid).reply  # told once that a person will answer
    after = store.session(sid)
    assert (after.status, after.agent, after.told_waiting) == (HANDOFF, "dana", True)

    monkeypatch.setattr(store, "log_turn", agent_first(lambda: desk.close(sid, "dana")))
    demo_assistant.chat("still there?", sid)
    monkeypatch.undo()
    assert store.session(sid).status == CLOSED
    with pytest.raises(Conflict):  # closed: nothing to assign any more
        desk.assign(sid, "erin")
    assert demo_assistant.chat("How much does express shipping cost?", sid).route == "template"
