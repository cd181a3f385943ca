"""review: the review queue's `items` table as the previous release made it (sqlite-utils), adopted where it
exists (its rows and ids kept as they are). The columns are written out here, not imported from
training/review.py: a revision is a snapshot, and the store's Table moves on with later revisions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "review_0001"
down_revision = None
branch_labels = ("review",)
depends_on = None

# (name, columns, unique), the names sqlite-utils gave them.
INDEXES = [("idx_items_turn_id", ["turn_id"], True), ("idx_items_status", ["status"], False)]


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    have: set[str] = set()
    if not inspector.has_table("items"):
        op.create_table(
            "items",
            sa.Column("id", sa.Integer, primary_key=True),  # SQLite: the rowid; PostgreSQL: serial
            sa.Column("turn_id", sa.Text),
            sa.Column("session_id", sa.Text),
            sa.Column("created_at", sa.Float),  # unix seconds
            sa.Column("text", sa.Text),
            sa.Column("language", sa.Text),
            sa.Column("predicted", sa.Text),
            sa.Column("confidence", sa.Float),
            sa.Column("reasons", sa.Text),  # comma-separated reason codes
            sa.Column("status", sa.Text),
            sa.Column("label", sa.Text),
            sa.Column("reviewer", sa.Text),
            sa.Column("reviewed_at", sa.Float),
        )
    else:
        have = {ix["name"] for ix in inspector.get_indexes("items")}
    for name, columns, unique in INDEXES:
        if name not in have:
            op.create_index(name, "items", columns, unique=unique)


def downgrade() -> None:
    op.drop_table("items")
