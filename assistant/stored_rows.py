"""What reaches the conversation database: customer text redacted, structures as JSON (`private_row`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from knowledge.redaction import redact

# Columns stored as they are: ids, times, numbers and names the assistant chose. Every other column holds
# customer text, or JSON that may (a trace copies the message into `rewritten`, a draft may echo it), and is
# redacted on its way to disk by `private_row`: a new column is private unless it is listed here.
_AS_IS: dict[str, frozenset[str]] = {
    # user_ref: a keyed digest of the integrator's own user id, never the id itself.
    "sessions": frozenset(
        {"id", "created_at", "updated_at", "language", "status", "failures", "offer", "user_ref"}
        # The agent desk's: who has a handed-off session, since when it waits, whether the customer was told.
        | {"agent", "waiting_since", "told_waiting"}
    ),
    "turns": frozenset(
        {"id", "session_id", "created_at", "language", "intent", "confidence", "route", "latency_ms"}
        # The client's idempotency key: random, [A-Za-z0-9_-]{16,128} (checked at the door), never customer text.
        | {"client_message_id"}
    ),
    # A person's reply to the customer: the company's own words, which the customer must see as written.
    "agent_messages": frozenset({"id", "session_id", "created_at", "agent", "text"}),
}
# Columns that quote the knowledge base (a reply, its sources): data found in the passages the reply drew on is
# the company's own (its support address) and stays. The customer's side is redacted in full.
_QUOTING: dict[str, frozenset[str]] = {"turns": frozenset({"reply", "sources"})}


def scrub(value: Any, keep: Sequence[str] = ()) -> Any:
    """`value` with every string in it redacted; dicts and lists are walked (their keys are ours), numbers and
    None stay, anything else is stored as its redacted `str()`."""
    if isinstance(value, str):
        return redact(value, keep=keep)
    if isinstance(value, dict):
        return {k: scrub(v, keep) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v, keep) for v in value]
    if value is None or isinstance(value, int | float):
        return value
    return redact(str(value), keep=keep)


def private_row(table: str, row: dict[str, Any], keep: Sequence[str] = ()) -> dict[str, Any]:
    """The one way a row reaches the database: customer text redacted, structures as JSON.

    `keep`: public texts (the knowledge-base passages a reply quoted), for the columns in `_QUOTING` only.
    """
    plain, quoting = _AS_IS[table], _QUOTING.get(table, frozenset())
    out: dict[str, Any] = {}
    for column, value in row.items():
        if column not in plain:
            value = scrub(value, keep if column in quoting else ())
        out[column] = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
    return out
