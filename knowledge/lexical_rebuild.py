"""Rebuild the knowledge base's lexical index from its `units` table, on either backend: after
`lepton db migrate|export` copied the rows (an index is derived, so it is rebuilt, never copied).

SQLite: FTS5's `units_fts` (the text as knowledge/store.py writes it, CJK as bigrams); PostgreSQL: the
lexicon of knowledge/lexical_postgres.py. Every unit revision is indexed, as the store does when it adds one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select, text

from knowledge.kb_tables import UNITS
from knowledge.lexical import index_text

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

BATCH_UNITS = 1000
_FTS_INSERT = text(
    "INSERT INTO units_fts (unit_id, title, heading, body) VALUES (:unit_id, :title, :heading, :body)"
)


def rebuild_lexical_index(conn: Connection) -> int:
    """Empty the lexical index and index every row of `units` again (the caller's transaction). Returns the
    units indexed."""
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        from knowledge.lexical_postgres import drop_units, index_units, unit_lexicon

        drop_units(conn, conn.execute(select(unit_lexicon.c.unit_id)).scalars().all())
    else:
        conn.execute(text("DELETE FROM units_fts"))
    query = select(UNITS.c.id, UNITS.c.title, UNITS.c.heading, UNITS.c.text, UNITS.c.language, UNITS.c.kind)
    done = 0
    # Read in full before writing: one connection cannot stream a result while it inserts.
    units = [dict(r) for r in conn.execute(query.order_by(UNITS.c.id)).mappings()]
    for start in range(0, len(units), BATCH_UNITS):
        batch = units[start : start + BATCH_UNITS]
        if postgres:
            index_units(conn, batch)
        else:
            conn.execute(
                _FTS_INSERT,
                [
                    {
                        "unit_id": u["id"],
                        "title": index_text(u["title"] or ""),
                        "heading": index_text(u["heading"] or ""),
                        "body": index_text(u["text"] or ""),
                    }
                    for u in batch
                ],
            )
        done += len(batch)
    return done
