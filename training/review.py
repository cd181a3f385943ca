"""The review queue: turns a person should look at, and the training examples they confirm."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import sqlite_utils

from knowledge.redaction import redact

PENDING, CONFIRMED, CORRECTED, DISCARDED = "pending", "confirmed", "corrected", "discarded"


def _key(text: str) -> str:
    """SQL for what makes two items the same question: their text, case and surrounding blanks aside."""
    return f"lower(trim({text}))"


# Items with `copies`: how many pending items (this one included) have the same text, and `copies_reasons`:
# why those were queued (comma-separated, repeats and all). Counted once per query and joined (a count per row
# took 2.3 s for 200 rows of a 20,000-item queue).
_ROWS = (
    f"with c as (select {_key('text')} as k, count(*) as n, group_concat(reasons) as r from items"
    f" where status = '{PENDING}' group by k)"
    " select i.*, coalesce(c.n, 0) as copies, coalesce(c.r, '') as copies_reasons"
    f" from items i left join c on c.k = {_key('i.text')}"
)


class ReviewQueue:
    """Items keyed by turn id in HOME/review.db; text is redacted before it is stored."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self.db = sqlite_utils.Database(conn)
        self.db.execute("PRAGMA journal_mode=WAL")
        self._lock = threading.Lock()
        self.db["items"].create(
            {
                "id": int,
                "turn_id": str,
                "session_id": str,
                "created_at": float,
                "text": str,
                "language": str,
                "predicted": str,
                "confidence": float,
                "reasons": str,
                "status": str,
                "label": str,
                "reviewer": str,
                "reviewed_at": float,
            },
            pk="id",
            if_not_exists=True,
        )
        self.db["items"].create_index(["turn_id"], unique=True, if_not_exists=True)
        self.db["items"].create_index(["status"], if_not_exists=True)

    def add(
        self,
        turn_id: str,
        text: str,
        reason: str,
        *,
        session_id: str = "",
        language: str = "",
        predicted: str | None = None,
        confidence: float = 0.0,
    ) -> bool:
        """Queue a turn (once; a second reason is appended). Returns True when the item is new."""
        with self._lock:
            rows = list(self.db.query("select id, reasons from items where turn_id = ?", [turn_id]))
            if rows:
                reasons = set(rows[0]["reasons"].split(","))
                if reason not in reasons:
                    self.db["items"].update(rows[0]["id"], {"reasons": ",".join(sorted(reasons | {reason}))})
                return False
            self.db["items"].insert(
                {
                    "turn_id": turn_id,
                    "session_id": session_id,
                    "created_at": time.time(),
                    "text": redact(text),
                    "language": language,
                    "predicted": predicted,
                    "confidence": confidence,
                    "reasons": reason,
                    "status": PENDING,
                }
            )
            return True

    def items(
        self, status: str | None = PENDING, limit: int = 100, *, grouped: bool = False
    ) -> list[dict[str, Any]]:
        """Newest first; `copies` counts the pending items with the same text (this one included).

        `grouped`: a question asked by many is one item (the newest of them) with its count in `copies`;
        resolving it with `same_text` answers them all."""
        conditions, params = (["i.status = ?"], [status]) if status else ([], [])
        if grouped:  # the newest item per text (and status)
            conditions.append(
                f"i.id in (select id from (select id, row_number() over (partition by {_key('text')}, status"
                " order by created_at desc, id desc) as n from items) where n = 1)"
            )
        where = f"where {' and '.join(conditions)}" if conditions else ""
        sql = f"{_ROWS} {where} order by i.created_at desc limit ?"
        with self._lock:
            return list(self.db.query(sql, [*params, limit]))

    def get(self, item_id: int) -> dict[str, Any] | None:
        with self._lock:
            rows = list(self.db.query(f"{_ROWS} where i.id = ?", [item_id]))
        return rows[0] if rows else None

    def resolve(
        self, item_id: int, label: str | None, reviewer: str = "admin", *, same_text: bool = False
    ) -> dict[str, Any]:
        """Confirm the predicted intent, correct it (`label`), or discard the item (`label=None`).

        With `same_text`, every other pending item with the same text gets the same answer (a question asked
        fifty times is reviewed once). The returned item's `also_resolved` counts those.
        """
        item = self.get(item_id)
        if item is None:
            raise KeyError(item_id)
        # One statement, so all of them change or none; each copy is confirmed or corrected against its own
        # prediction.
        with self._lock:
            changed = self.db.execute(
                "update items set status = case when ? is null then ? when predicted = ? then ? else ? end,"
                " label = ?, reviewer = ?, reviewed_at = ?"
                f" where id = ? or (? and status = '{PENDING}' and {_key('text')} = {_key('?')})",
                [label, DISCARDED, label, CONFIRMED, CORRECTED, label, reviewer, time.time()]
                + [item_id, same_text, item["text"]],
            ).rowcount
            self.db.conn.commit()
        if not changed:  # removed in the meantime
            raise KeyError(item_id)
        return {**(self.get(item_id) or {}), "also_resolved": changed - 1}

    def training_examples(self) -> tuple[list[str], list[str]]:
        """(texts, intents) of the confirmed or corrected items: one row per distinct text (case and blanks
        aside), with its latest answer. A question asked fifty times is one training example, not fifty that would
        outweigh the rest and, landing on one side of the held-out split together, skew its scores."""
        with self._lock:
            rows = list(
                self.db.query(
                    f"select text, label from (select text, label, row_number() over (partition by {_key('text')}"
                    f" order by reviewed_at desc, id desc) as newest, min(id) over (partition by {_key('text')})"
                    " as first from items where status in (?, ?)) where newest = 1 order by first",
                    [CONFIRMED, CORRECTED],
                )
            )
        return [r["text"] for r in rows], [r["label"] for r in rows]

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self.db.execute("select status, count(*) from items group by status").fetchall()
        return {status: n for status, n in rows}
