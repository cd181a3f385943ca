"""What a store calls when it opens: its engine, with its branch's tables brought up to date."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowledge.database.engines import close_engine, open_engine
from knowledge.database.upgrades import upgrade

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def open_store(database_url: Any, sqlite_path: Path, branch: str) -> Engine:
    """The engine for store `branch`: PostgreSQL at `database_url` (str or settings secret) when set, else the
    SQLite file `sqlite_path`; its migrations run first (a no-op query when already up to date)."""
    engine = open_engine(database_url, sqlite_path)
    try:
        upgrade(engine, branch)
    except BaseException:
        close_engine(engine)
        raise
    return engine
