"""SQL the two dialects spell differently, as Core constructs: a store writes one query for SQLite and PostgreSQL.

- `utc_day(seconds)`: the UTC calendar day of unix seconds as text, `YYYY-MM-DD`;
- `joined(text)`: an aggregate joining a group's texts with commas (`group_concat` / `string_agg`).

Both render without bound parameters, so a GROUP BY on them matches the same expression in the SELECT list
on PostgreSQL (which compares the expressions, parameters included).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Text


class utc_day(FunctionElement[str]):  # noqa: N801 (a SQL function, named like one)
    """The UTC day (`YYYY-MM-DD`) of a unix-seconds column."""

    type = Text()
    name = "utc_day"
    inherit_cache = True


class joined(FunctionElement[str]):  # noqa: N801
    """An aggregate: the group's non-null texts joined by commas (in no particular order)."""

    type = Text()
    name = "joined"
    inherit_cache = True


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element: utc_day, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, 'unixepoch')"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: Any, **kw: Any) -> str:
    seconds = compiler.process(element.clauses, **kw)
    return f"to_char(to_timestamp({seconds}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


@compiles(joined, "sqlite")
def _joined_sqlite(element: joined, compiler: Any, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


@compiles(joined, "postgresql")
def _joined_postgresql(element: joined, compiler: Any, **kw: Any) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)}, ',')"
