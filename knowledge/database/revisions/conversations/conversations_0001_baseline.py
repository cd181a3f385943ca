"""conversations: the conversation log's tables as the previous release made them (sqlite-utils), adopted where
they exist.

A home made before the migrations has conversations.db with sessions, turns and agent_messages (feedback only
once a reply was rated) and no alembic_version: its tables and rows are kept as they are; a table that is
missing is made, and so is a sessions column an older home lacks (offer, user_ref and the agent desk's, which
the previous release added on open). The columns are written out here, not imported from
assistant/conversation_tables.py: a revision is a snapshot, and the store's Tables move on with later revisions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "conversations_0001"
down_revision = None
branch_labels = ("conversations",)
depends_on = None


def _tables() -> dict[str, list[sa.Column]]:
    """Each table's columns, fresh objects on every call (a Column belongs to one table)."""
    return {
        "sessions": [
            sa.Column("id", sa.Text, primary_key=True),
            sa.Column("created_at", sa.Float),  # unix seconds
            sa.Column("updated_at", sa.Float),
            sa.Column("language", sa.Text),
            sa.Column("status", sa.Text),
            sa.Column("failures", sa.Integer),
            sa.Column("slots", sa.Text),  # JSON
            sa.Column("pending", sa.Text),  # JSON
            sa.Column("topic", sa.Text),
            sa.Column("offer", sa.Text),
            sa.Column("user_ref", sa.Text),
            sa.Column("agent", sa.Text),
            sa.Column("waiting_since", sa.Float),
            sa.Column("told_waiting", sa.Integer),
        ],
        "turns": [
            sa.Column("id", sa.Text, primary_key=True),
            sa.Column("session_id", sa.Text, sa.ForeignKey("sessions.id")),
            sa.Column("created_at", sa.Float),
            sa.Column("message", sa.Text),
            sa.Column("language", sa.Text),
            sa.Column("intent", sa.Text),
            sa.Column("confidence", sa.Float),
            sa.Column("route", sa.Text),
            sa.Column("sources", sa.Text),
            sa.Column("reply", sa.Text),
            sa.Column("latency_ms", sa.Float),
            sa.Column("trace", sa.Text),
        ],
        "agent_messages": [
            sa.Column("id", sa.Text, primary_key=True),
            sa.Column("session_id", sa.Text, sa.ForeignKey("sessions.id")),
            sa.Column("created_at", sa.Float),
            sa.Column("agent", sa.Text),
            sa.Column("text", sa.Text),
        ],
        "feedback": [
            sa.Column("message_id", sa.Text, primary_key=True),
            sa.Column("session_id", sa.Text),
            sa.Column("rating", sa.Text),
            sa.Column("comment", sa.Text),
            sa.Column("created_at", sa.Float),
            sa.Column("updated_at", sa.Float),
        ],
    }


# (name, table, columns), the names sqlite-utils gave them.
INDEXES = [
    ("idx_sessions_user_ref_updated_at", "sessions", ["user_ref", "updated_at"]),
    ("idx_turns_session_id_created_at", "turns", ["session_id", "created_at"]),
    ("idx_turns_created_at", "turns", ["created_at"]),
    ("idx_agent_messages_session_id_created_at", "agent_messages", ["session_id", "created_at"]),
]


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    made: set[str] = set()
    for table, columns in _tables().items():
        if not inspector.has_table(table):
            op.create_table(table, *columns)
            made.add(table)
            continue
        have = {c["name"] for c in inspector.get_columns(table)}
        for column in columns:
            if column.name not in have:  # a home from before that column (never a key column)
                op.add_column(table, column)
    for name, table, columns in INDEXES:
        if table in made or name not in {ix["name"] for ix in inspector.get_indexes(table)}:
            op.create_index(name, table, columns)


def downgrade() -> None:
    for table in ("feedback", "agent_messages", "turns", "sessions"):
        op.drop_table(table)
