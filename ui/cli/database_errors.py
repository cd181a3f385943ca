"""The root command group: a database that cannot be reached ends any command with one line, not a traceback."""

from __future__ import annotations

from typing import Any

import click
from typer.core import TyperGroup

from ui.cli.common import fail


class DatabaseErrorsGroup(TyperGroup):
    """Runs a command; a PostgreSQL that refuses or cannot be reached becomes `error: cannot reach …`, exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:  # noqa: BLE001 - anything else is re-raised unchanged
            reason = connection_failure(exc)
            if reason is None:
                raise
            fail(f"cannot reach the database {_database_named()}: {reason}")


def connection_failure(exc: BaseException) -> str | None:
    """psycopg's first line when `exc` (or what it wraps) is a failure to connect, else None.

    Matched by class name and module, so the CLI never imports SQLAlchemy or psycopg just to check."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = type(current)
        if kind.__module__.startswith("psycopg") and kind.__name__ == "OperationalError":
            first = (str(current).strip().splitlines() or ["connection failed"])[0]
            return first if "connect" in first.lower() or "authentication" in first.lower() else None
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return None


def _database_named() -> str:
    from knowledge.database.engines import shared_database_urls

    urls = shared_database_urls()
    return urls[0] if len(urls) == 1 else "(database_url)"
