"""One data-access layer for every store: SQLite files in the home (the default) or one PostgreSQL database
(`database_url`), through SQLAlchemy Core, with Alembic migrations (one branch per store) run on open.

A store calls `open_store(database_url, sqlite_path, branch)` and keeps the engine; docs/database.md shows the
pattern. The names below load on first use (PEP 562): importing this package does not load SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from knowledge.database.rows import plain_row, plain_rows
from knowledge.database.urls import check_database_url, is_postgres_url, redact_url

if TYPE_CHECKING:
    from knowledge.database.engines import begin_write, close_engine, dispose_engines, open_engine, plain_url
    from knowledge.database.stores import open_store
    from knowledge.database.upgrades import branches, upgrade

_HOME = {
    "begin_write": "knowledge.database.engines",
    "branches": "knowledge.database.upgrades",
    "close_engine": "knowledge.database.engines",
    "dispose_engines": "knowledge.database.engines",
    "open_engine": "knowledge.database.engines",
    "open_store": "knowledge.database.stores",
    "plain_url": "knowledge.database.engines",
    "upgrade": "knowledge.database.upgrades",
}

__all__ = [
    "begin_write",
    "branches",
    "check_database_url",
    "close_engine",
    "dispose_engines",
    "is_postgres_url",
    "open_engine",
    "open_store",
    "plain_row",
    "plain_rows",
    "plain_url",
    "redact_url",
    "upgrade",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'knowledge.database' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value
