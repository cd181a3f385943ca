"""The knowledge base's tables (SQLAlchemy Core): the same names, columns and indexes as the previous
release's kb.db (sqlite-utils), on SQLite or PostgreSQL. Alembic branch `kb` makes them
(knowledge/database/revisions/kb/); on SQLite the FTS5 index `units_fts` sits beside them (not a Core table:
only knowledge/store.py's SQLite statements touch it)."""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, MetaData, Table, Text

metadata = MetaData()

META = Table(
    "meta",
    metadata,
    Column("key", Text, primary_key=True),  # "schema", "live_version"
    Column("value", Text),
)
DOCUMENT_COLUMNS = (
    ("id", Text),
    ("uri", Text),
    ("kind", Text),
    ("title", Text),
    ("language", Text),
    ("tags", Text),  # a JSON list
    ("hash", Text),
    ("size", Integer),
    ("chunks", Integer),
    ("ingested_at", Float),  # unix seconds
    ("body", Text),  # an edit's Markdown (None: the file's chunks are the text)
    ("updated_at", Float),
    ("updated_by", Text),
)
DOCUMENTS = Table(
    "documents",
    metadata,
    *(Column(name, kind, primary_key=name == "id") for name, kind in DOCUMENT_COLUMNS),
    Index("idx_documents_uri", "uri", unique=True),
)
UNITS = Table(
    "units",
    metadata,
    Column("id", Text, primary_key=True),  # the revision id, `uid@hash`
    Column("uid", Text),
    Column("doc_id", Text),
    Column("kind", Text),
    Column("ord", Integer),
    Column("title", Text),
    Column("heading", Text),
    Column("text", Text),
    Column("language", Text),
    Column("tags", Text),
    Column("intent", Text),
    Column("uri", Text),
    Column("ref", Text),
    Column("path", Text),
    Column("url", Text),
    Index("idx_units_doc_id", "doc_id"),
    Index("idx_units_uid", "uid"),
)
DRAFT_UNITS = Table(
    "draft_units",
    metadata,
    Column("rev", Text, primary_key=True),
    Column("doc_id", Text),
    Index("idx_draft_units_doc_id", "doc_id"),
)
VERSIONS = Table(
    "versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("created_at", Float),
    Column("actor", Text),
    Column("note", Text),
    Column("documents", Integer),
    Column("chunks", Integer),
    Column("templates", Integer),
    Column("changes", Text),
)
VERSION_UNITS = Table(
    "version_units",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("rev", Text, primary_key=True),
    Index("idx_version_units_rev", "rev"),
)
# A snapshot of `documents` per version; no primary key (the previous release made it with CREATE TABLE AS).
VERSION_DOCUMENTS = Table(
    "version_documents",
    metadata,
    Column("version", Integer),
    *(Column(name, kind) for name, kind in DOCUMENT_COLUMNS),
    Index("idx_version_documents", "version", "id", unique=True),
)
AUDIT = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", Float),
    Column("actor", Text),
    Column("action", Text),
    Column("target", Text),
    Column("detail", Text),  # JSON
)
FLAG_COLUMNS = (
    ("kind", Text),
    ("item_id", Text),
    ("source_id", Text),
    ("source_language", Text),
    ("source_title", Text),
    ("actor", Text),
    ("at", Float),
    ("fields", Text),
    ("diff", Text),
)
TWIN_FLAGS = Table(
    "twin_flags",
    metadata,
    *(Column(name, kind, primary_key=name in ("kind", "item_id")) for name, kind in FLAG_COLUMNS),
)
VERSION_TWIN_FLAGS = Table(
    "version_twin_flags",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    *(Column(name, kind, primary_key=name in ("kind", "item_id")) for name, kind in FLAG_COLUMNS),
)
