"""kb: PostgreSQL's lexicon indexed again with the field weights FTS5 applies (title 2.0, heading 1.5, body
1.0). kb_0001's lexicon stored postings weighted title 1.5, heading and body 1.0 (FTS5's weights were given
from its unindexed first column on, so each landed one column early). The weights live inside each posting, so
they change only by indexing every unit again. SQLite weighs at query time: nothing to do there.

The rebuild uses today's indexer (an index is derived from `units`, never a snapshot of its own). Downgrade
keeps the index as it is: the old weights were a mistake, not a format.
"""

from __future__ import annotations

from alembic import op

revision = "kb_0002"
down_revision = "kb_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    from knowledge.lexical_rebuild import rebuild_lexical_index

    rebuild_lexical_index(conn)


def downgrade() -> None:
    pass
