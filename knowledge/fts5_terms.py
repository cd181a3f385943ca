"""The terms SQLite's FTS5 makes of text, from FTS5 itself: its `porter unicode61 remove_diacritics 2` tokenizer
run on an in-memory table and read back through `fts5vocab`.

The PostgreSQL lexicon (knowledge/lexical_postgres.py) indexes these terms, so both backends tokenize, fold and
stem exactly alike (PostgreSQL's Snowball `porter` dictionary differs from FTS5's Porter on rules such as
BLI→BLE and LOGI→LOG, and works on characters where FTS5 works on UTF-8 bytes).
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Sequence

from knowledge.lexical import FTS_TOKENIZER, index_text

FIELDS = ("title", "heading", "body")
_local = threading.local()  # one in-memory database per thread (sqlite3 connections are not shared)


def _scratch() -> sqlite3.Connection:
    db = getattr(_local, "db", None)
    if db is None:
        db = sqlite3.connect(":memory:", isolation_level=None)
        db.execute(f"CREATE VIRTUAL TABLE t USING fts5(title, heading, body, tokenize='{FTS_TOKENIZER}')")
        db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        _local.db = db
    return db


def _instances(rows: Sequence[tuple[str, str, str]]) -> list[tuple[int, str, str]]:
    """(row index, field, term) of every token of `rows`, in order; nothing is kept (rolled back)."""
    db = _scratch()
    db.execute("BEGIN")
    try:
        db.executemany(
            "INSERT INTO t (rowid, title, heading, body) VALUES (?, ?, ?, ?)",
            ((i, *r) for i, r in enumerate(rows)),
        )
        return db.execute("SELECT doc, col, term FROM v ORDER BY doc, col, offset").fetchall()
    finally:
        db.execute("ROLLBACK")


def unit_terms(fields: Sequence[tuple[str | None, str | None, str | None]]) -> list[tuple[Counter, int]]:
    """For each (title, heading, body): {(field, term): count} and the token count, as FTS5 stores the unit
    (CJK runs as `index_text`'s bigrams)."""
    out: list[tuple[Counter, int]] = [(Counter(), 0) for _ in fields]
    if not fields:
        return out
    rows = [tuple(index_text(f or "") for f in unit) for unit in fields]
    lengths = [0] * len(rows)
    for doc, col, term in _instances(rows):
        out[doc][0][(col, term)] += 1
        lengths[doc] += 1
    return [(counts, n) for (counts, _), n in zip(out, lengths, strict=True)]


def query_tokens(terms: Sequence[str]) -> list[str]:
    """FTS5's tokens of each query term (from `query_terms`), in order, one list entry per token."""
    if not terms:
        return []
    return [term for _, _, term in _instances([("", "", t) for t in terms])]
