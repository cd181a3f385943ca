"""keys: the key store's table as the previous release made it (sqlite-utils), adopted where it exists.

A home made before the migrations has `keys` but no alembic_version: its table is kept as it is (the columns
match) and only recorded as this revision. The columns are written out here, not imported from
assistant/keys.py: a revision is a snapshot, and the store's Table moves on with later revisions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "keys_0001"
down_revision = None
branch_labels = ("keys",)
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("keys"):
        op.create_table(
            "keys",
            sa.Column("id", sa.Text, primary_key=True),
            sa.Column("kind", sa.Text),
            sa.Column("name", sa.Text),
            sa.Column("origins", sa.Text),  # a JSON list of normalized origins
            sa.Column("digest", sa.Text),  # HMAC-SHA256 of the key under the pepper
            sa.Column("created_at", sa.Float),  # unix seconds
            sa.Column("revoked_at", sa.Float),
        )
    elif "idx_keys_digest" in {ix["name"] for ix in inspector.get_indexes("keys")}:
        return  # adopted: the previous release's table and index, as they are
    op.create_index("idx_keys_digest", "keys", ["digest"], unique=True)


def downgrade() -> None:
    op.drop_table("keys")
