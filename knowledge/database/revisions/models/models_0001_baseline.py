"""models: the model registries' pointers (which intent model and which generator adapter serve), one row per
registry kind, shared by every replica on PostgreSQL. The versions themselves stay files in the shared artifact
directory (`artifact_dir`); only the pointer moves. New in this release: there is no older table to adopt
(an old home's current.json is read until the first promotion writes the row: training/model_pointers.py).
The columns are written out here, not imported from training/model_pointers.py: a revision is a snapshot.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "models_0001"
down_revision = None
branch_labels = ("models",)
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("model_pointers"):
        return
    op.create_table(
        "model_pointers",
        sa.Column("kind", sa.Text, primary_key=True),  # "intents" or "generator"
        sa.Column("version", sa.Text),  # vNNNN serving now; NULL: none yet
        sa.Column("history", sa.Text, nullable=False),  # JSON list of earlier versions, oldest first
        sa.Column("updated_at", sa.Float, nullable=False),  # unix seconds
        sa.Column("updated_by", sa.Text, nullable=False),  # host:pid of the process that changed it
    )


def downgrade() -> None:
    op.drop_table("model_pointers")
