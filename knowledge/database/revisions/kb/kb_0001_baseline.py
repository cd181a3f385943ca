"""kb: the knowledge base's tables as the previous release made them (sqlite-utils, schema 2), adopted where
they exist.

A home made before the migrations has kb.db with meta, documents, units, draft_units, versions, version_units,
version_documents, audit, twin_flags, version_twin_flags and the FTS5 index units_fts, and no alembic_version:
its tables and rows are kept as they are; what is missing is made (a table, a column an older home lacks:
units.path and units.url, versions.changes; an index, by name). A kb.db of schema 1 (a release before versions)
is refused with a clear error (the previous release, which migrates it, opens it first; or ingest again).

The lexical index: SQLite's FTS5 table `units_fts` here (same tokenizer as before); on PostgreSQL
knowledge.lexical_postgres makes its own table and GIN indexes. The columns are written out here, not
imported from knowledge/kb_tables.py: a revision is a snapshot, and the store's Tables move on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from knowledge.kb_tables import KbSchemaRefused  # an error class, not a table: the snapshot stays one

revision = "kb_0001"
down_revision = None
branch_labels = ("kb",)
depends_on = None

SCHEMA = "2"  # meta.schema of the previous release's kb.db
FTS = (
    "CREATE VIRTUAL TABLE units_fts USING fts5("
    "unit_id UNINDEXED, title, heading, body, tokenize='porter unicode61 remove_diacritics 2')"
)


def _documents() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Text),
        sa.Column("uri", sa.Text),
        sa.Column("kind", sa.Text),
        sa.Column("title", sa.Text),
        sa.Column("language", sa.Text),
        sa.Column("tags", sa.Text),
        sa.Column("hash", sa.Text),
        sa.Column("size", sa.Integer),
        sa.Column("chunks", sa.Integer),
        sa.Column("ingested_at", sa.Float),
        sa.Column("body", sa.Text),
        sa.Column("updated_at", sa.Float),
        sa.Column("updated_by", sa.Text),
    ]


def _flags() -> list[sa.Column]:
    return [
        sa.Column("kind", sa.Text),
        sa.Column("item_id", sa.Text),
        sa.Column("source_id", sa.Text),
        sa.Column("source_language", sa.Text),
        sa.Column("source_title", sa.Text),
        sa.Column("actor", sa.Text),
        sa.Column("at", sa.Float),
        sa.Column("fields", sa.Text),
        sa.Column("diff", sa.Text),
    ]


def _tables() -> dict[str, list]:
    """Each table's columns and constraints, fresh objects on every call (a Column belongs to one table)."""
    return {
        "meta": [sa.Column("key", sa.Text, primary_key=True), sa.Column("value", sa.Text)],
        "documents": [*_documents(), sa.PrimaryKeyConstraint("id")],
        "units": [
            sa.Column("id", sa.Text, primary_key=True),
            *(sa.Column(n, sa.Text) for n in ("uid", "doc_id", "kind")),
            sa.Column("ord", sa.Integer),
            *(
                sa.Column(n, sa.Text)
                for n in (
                    "title",
                    "heading",
                    "text",
                    "language",
                    "tags",
                    "intent",
                    "uri",
                    "ref",
                    "path",
                    "url",
                )
            ),
        ],
        "draft_units": [sa.Column("rev", sa.Text, primary_key=True), sa.Column("doc_id", sa.Text)],
        "versions": [
            sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("created_at", sa.Float),
            sa.Column("actor", sa.Text),
            sa.Column("note", sa.Text),
            sa.Column("documents", sa.Integer),
            sa.Column("chunks", sa.Integer),
            sa.Column("templates", sa.Integer),
            sa.Column("changes", sa.Text),
        ],
        "version_units": [
            sa.Column("version", sa.Integer),
            sa.Column("rev", sa.Text),
            sa.PrimaryKeyConstraint("version", "rev"),
        ],
        "version_documents": [sa.Column("version", sa.Integer), *_documents()],
        "audit": [
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("at", sa.Float),
            sa.Column("actor", sa.Text),
            sa.Column("action", sa.Text),
            sa.Column("target", sa.Text),
            sa.Column("detail", sa.Text),
        ],
        "twin_flags": [*_flags(), sa.PrimaryKeyConstraint("kind", "item_id")],
        "version_twin_flags": [
            sa.Column("version", sa.Integer),
            *_flags(),
            sa.PrimaryKeyConstraint("version", "kind", "item_id"),
        ],
    }


# (name, table, columns, unique), the names sqlite-utils (and the previous release) gave them.
INDEXES = [
    ("idx_documents_uri", "documents", ["uri"], True),
    ("idx_units_doc_id", "units", ["doc_id"], False),
    ("idx_units_uid", "units", ["uid"], False),
    ("idx_draft_units_doc_id", "draft_units", ["doc_id"], False),
    ("idx_version_units_rev", "version_units", ["rev"], False),
    ("idx_version_documents", "version_documents", ["version", "id"], True),
]


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    if inspector.has_table("meta"):
        schema = bind.execute(sa.text("SELECT value FROM meta WHERE key = 'schema'")).scalar()
        if schema is not None and schema != SCHEMA:
            raise KbSchemaRefused(
                f"kb.db has schema {schema} (from a release before published versions): open the home once with "
                "the previous release, which migrates it, or ingest the documents into a new home"
            )
    made: set[str] = set()
    for table, columns in _tables().items():
        if not inspector.has_table(table):
            op.create_table(table, *columns)
            made.add(table)
            continue
        have = {c["name"] for c in inspector.get_columns(table)}
        for column in columns:
            if isinstance(column, sa.Column) and column.name not in have:  # units.path/url, versions.changes
                op.add_column(table, column)
    for name, table, columns, unique in INDEXES:
        if table in made or name not in {ix["name"] for ix in inspector.get_indexes(table)}:
            op.create_index(name, table, columns, unique=unique)
    have_meta = {r[0] for r in bind.execute(sa.text("SELECT key FROM meta"))}
    for key, value in (("schema", SCHEMA), ("live_version", "0")):
        if key not in have_meta:
            bind.execute(sa.text("INSERT INTO meta (key, value) VALUES (:k, :v)"), {"k": key, "v": value})
    if bind.dialect.name == "sqlite":
        if not inspector.has_table("units_fts"):
            op.execute(FTS)
    else:
        from knowledge.lexical_postgres import create_lexicon

        create_lexicon(bind)


# The PostgreSQL lexicon's tables, which upgrade() makes through knowledge.lexical_postgres.create_lexicon.
LEXICON = ("unit_postings", "unit_lexicon", "lexicon_stats")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS units_fts")
    else:
        for table in LEXICON:
            op.execute(f"DROP TABLE IF EXISTS {table}")
    for table in reversed(list(_tables())):
        op.drop_table(table)
