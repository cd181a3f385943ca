from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from assistant import conversations
from assistant.conversations import HANDOFF, ConversationStore


def test_turns_are_logged_with_redacted_personal_data(database_url: str | None, tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.db", database_url=database_url)
    session = store.session(None)
    turn_id = store.log_turn(
        session,
        {
            "message": "my email is jane@example.com, order KH-20481937",
            "reply": "ok",
            "route": "template",
            "language": "en",
            "intent": "order_status",
            "confidence": 0.9,
            "sources": [{"id": "t1"}],
            "latency_ms": 12.5,
            "trace": {"stages_ms": {"total": 12.5}},
        },
    )
    row = store.turn(turn_id)
    assert row is not None
    assert "jane@example.com" not in row["message"] and "[EMAIL]" in row["message"]
    assert "KH-20481937" in row["message"]
    assert row["sources"] == [{"id": "t1"}] and row["route"] == "template"
    assert store.counts() == {"turns": 1, "sessions": 1}


def test_rows_read_back_are_plain_json(database_url: str | None, tmp_path: Path) -> None:
    """What the reads return goes to strict JSON encoders as is (the console's trace JSON uses orjson, which
    refuses SQLAlchemy's `str` subclass as a key: the CI failure of the console browser test)."""
    import orjson

    from training.review import ReviewQueue

    store = ConversationStore(tmp_path / "c.db", database_url=database_url)
    session = store.session(None)
    turn_id = store.log_turn(
        session, {"message": "hi", "reply": "hello", "trace": {"stages_ms": {"total": 1}}}
    )
    store.add_agent_message(session.id, "a person here", agent="alice")
    reads = [store.turn(turn_id), store.history(session.id), store.agent_messages(session.id)]
    for rows in reads:
        for row in rows if isinstance(rows, list) else [rows]:
            assert row and all(type(k) is str for k in row), row
    assert orjson.loads(orjson.dumps(reads))[0]["trace"] == {"stages_ms": {"total": 1}}
    with ReviewQueue(tmp_path / "r.db", database_url=database_url) as queue:
        queue.add(turn_id, "where is it", "unanswered")
        pending = queue.items()
    assert pending and all(type(k) is str for k in pending[0]) and orjson.dumps(pending)


def test_a_reply_keeps_the_contact_details_of_the_passages_it_quoted(
    database_url: str | None, tmp_path: Path
) -> None:
    store = ConversationStore(tmp_path / "c.db", database_url=database_url)
    passage = "Email privacy@kestrel.example or call 1-800-555-0199 to delete your data."
    turn_id = store.log_turn(
        store.session(None),
        {
            "message": "delete my data, I am jane@example.com, call me on 1-800-555-0199",
            "reply": "Email privacy@kestrel.example (we will not write to jane@example.com).",
            "public": [passage],
        },
    )
    row = store.turn(turn_id)
    assert row["reply"] == "Email privacy@kestrel.example (we will not write to [EMAIL])."
    assert (
        row["message"] == "delete my data, I am [EMAIL], call me on [PHONE]"
    )  # the customer's side: all of it
    assert "public" not in row


def test_session_state_survives_a_new_store(database_url: str | None, tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.db", database_url=database_url)
    session = store.session(None)
    session.status, session.failures, session.slots = HANDOFF, 2, {"order_id": "KH-12345678"}
    store.log_turn(session, {"message": "hi", "reply": "hello"})
    store.close()
    again = ConversationStore(tmp_path / "c.db", database_url=database_url).session(session.id)
    assert (again.status, again.failures, again.slots) == (HANDOFF, 2, {"order_id": "KH-12345678"})


def test_expired_or_unknown_sessions_start_afresh(database_url: str | None, tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.db", session_ttl_s=0.05, database_url=database_url)
    session = store.session(None)
    store.log_turn(session, {"message": "hi", "reply": "hello"})
    time.sleep(0.1)
    assert store.session(session.id).id != session.id
    assert store.session("no-such-session").id != "no-such-session"


def test_a_failed_write_leaves_no_half_turn(
    database_url: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ConversationStore(tmp_path / "c.db", database_url=database_url)
    session = store.session(None)
    store.log_turn(session, {"message": "first", "reply": "a"})
    original = conversations.private_row

    def crash_on_turns(table: str, row: dict, keep: tuple = ()) -> dict:
        if table == "turns":
            raise OSError("disk gone")  # the session row is already written inside the transaction
        return original(table, row, keep)

    monkeypatch.setattr(conversations, "private_row", crash_on_turns)
    session.failures = 5
    with pytest.raises(OSError):
        store.log_turn(session, {"message": "second", "reply": "b"})
    monkeypatch.undo()
    assert store.counts()["turns"] == 1
    assert store.session(session.id).failures == 0


PII = ("jane.doe@example.com", "4111 1111 1111 1111", "+1 415 555 2671")
RAW = f"my card {PII[1]} was declined, mail {PII[0]} or call {PII[2]}"


def test_every_stored_field_with_customer_text_is_redacted(tmp_path: Path) -> None:
    """Topic, trace (known fields, nested ones, a field no code knows yet, an object), slots: nothing raw on
    disk, while ids, numbers and the assistant's own names stay as they were."""
    store = ConversationStore(tmp_path / "c.db")
    session = store.session(None)
    session.topic, session.slots = RAW, {"order_id": "KH-20481937", "note": PII[0]}
    turn_id = store.log_turn(
        session,
        {
            "message": RAW,
            "reply": "ok",
            "intent": "payment_declined",
            "route": "rag",
            "trace": {
                "rewritten": f"{RAW} and how long does that take?",
                "guard": {"ok": False, "draft": f"We will call {PII[2]}.", "support": 0.4},
                "retrieved": [{"id": "2d6d488b0d63f15b-0002", "score": 0.87}],
                "future_field": [[PII[0], 1]],
                "error": ValueError(PII[1]),
            },
        },
    )
    store.close()
    data = b"".join(p.read_bytes() for p in tmp_path.glob("c.db*"))
    for value in PII:
        assert value.encode() not in data and value.replace(" ", "").encode() not in data
    again = ConversationStore(tmp_path / "c.db")
    trace = again.turn(turn_id)["trace"]
    assert (
        trace["rewritten"]
        == "my card [CARD] was declined, mail [EMAIL] or call [PHONE] and how long does that take?"
    )
    assert trace["guard"] == {"ok": False, "draft": "We will call [PHONE].", "support": 0.4}
    assert trace["retrieved"] == [{"id": "2d6d488b0d63f15b-0002", "score": 0.87}]
    assert trace["future_field"] == [["[EMAIL]", 1]] and trace["error"] == "[CARD]"
    found = again.session(session.id)
    assert found.topic == "my card [CARD] was declined, mail [EMAIL] or call [PHONE]"
    assert found.slots == {"order_id": "KH-20481937", "note": "[EMAIL]"}
    assert again.turn(turn_id)["intent"] == "payment_declined"


def test_topics_and_traces_stored_raw_by_older_versions_are_redacted_on_open(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.db")
    session = store.session(None)
    turn_id = store.log_turn(session, {"message": "hi", "reply": "hello"})
    store.close()
    con = sqlite3.connect(tmp_path / "c.db")  # what an older version wrote
    con.execute("update sessions set topic = ?", [RAW])
    con.execute("update turns set trace = ?", [json.dumps({"rewritten": RAW, "stages_ms": {"total": 1.0}})])
    con.execute("pragma user_version = 0")
    con.commit()
    con.close()
    again = ConversationStore(tmp_path / "c.db")
    assert again.session(session.id).topic == "my card [CARD] was declined, mail [EMAIL] or call [PHONE]"
    assert again.turn(turn_id)["trace"] == {
        "rewritten": "my card [CARD] was declined, mail [EMAIL] or call [PHONE]",
        "stages_ms": {"total": 1.0},
    }
