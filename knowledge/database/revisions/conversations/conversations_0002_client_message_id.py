"""conversations: `turns.client_message_id`, the idempotency key a client may send with a message (`POST
/v1/chat`), unique where given: a retry of the same message (another replica, after a crash) finds the turn
already answered instead of answering and logging it twice. NULL (no key) any number of times, on SQLite
and PostgreSQL alike. Written out here, not imported: a revision is a snapshot.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "conversations_0002"
down_revision = "conversations_0001"
branch_labels = None
depends_on = None

INDEX = "idx_turns_client_message_id"


def upgrade() -> None:
    op.add_column("turns", sa.Column("client_message_id", sa.Text, nullable=True))
    op.create_index(INDEX, "turns", ["client_message_id"], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="turns")
    with op.batch_alter_table("turns") as batch:
        batch.drop_column("client_message_id")
