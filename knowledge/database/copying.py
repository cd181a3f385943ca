"""Copying a store's tables from one database to another (a home's SQLite file <-> PostgreSQL), for
`lepton db migrate` and `lepton db export`. Both sides are at the branch's head first; the tables are read
back from each side (reflected), so a store ported later is copied without a line here.

Which tables hold a store's rows: those its migrations make in an empty SQLite file (`store_tables`), less
alembic_version and the derived ones (SQLite virtual tables such as FTS5 and their shadow tables): an index
is rebuilt on the target by the store's own code, never copied. Rows the migrations write themselves (a
schema marker) do not make a database non-empty (`seeded_rows`); the copy replaces them.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.database.engines import close_engine, open_engine
from knowledge.database.upgrades import upgrade

if TYPE_CHECKING:
    from sqlalchemy import MetaData
    from sqlalchemy.engine import Connection, Engine

# Rows read and written per round trip: small enough to keep memory flat, large enough that PostgreSQL's
# multi-row INSERT dominates the cost.
BATCH_ROWS = 1000


@dataclass(frozen=True)
class TableCopy:
    """One table copied: its name and how many rows."""

    table: str
    rows: int


def store_tables(branch: str) -> tuple[str, ...]:
    """The tables that hold `branch`'s rows, parents before children (foreign keys): what its migrations make
    in an empty SQLite file, less alembic_version and derived tables (virtual tables and their shadows)."""
    return tuple(_empty_store(branch))


def seeded_rows(branch: str) -> dict[str, int]:
    """{table: rows} the branch's migrations write into an empty database themselves (e.g. a meta table's
    schema row): a target holding only these is empty, and the copy replaces them with the source's."""
    return {t: n for t, n in _empty_store(branch).items() if n}


@cache
def _empty_store(branch: str) -> dict[str, int]:
    """{table: rows} of `branch`'s data tables in a new SQLite file brought to head, in copy order."""
    with tempfile.TemporaryDirectory(prefix="lepton-tables-") as scratch:
        engine = open_engine(None, Path(scratch) / f"{branch}.db")
        try:
            upgrade(engine, branch)
            with engine.connect() as conn:
                return count_rows(conn, data_tables(conn))
        finally:
            close_engine(engine)


def data_tables(conn: Connection) -> tuple[str, ...]:
    """The tables of a SQLite database that hold rows of their own, parents before children: every ordinary
    table but alembic_version and SQLite's internal ones; virtual tables (FTS5) and their shadow tables are
    derived, so they are left out."""
    listed = conn.exec_driver_sql("PRAGMA table_list").all()  # SQLite 3.37+: each table's type
    names = [
        r.name
        for r in listed
        if r.schema == "main"
        and r.type == "table"
        and r.name != "alembic_version"
        and not r.name.startswith("sqlite_")
    ]
    return tuple(t.name for t in _reflect(conn, names).sorted_tables)


def count_rows(conn: Connection, tables: tuple[str, ...]) -> dict[str, int]:
    """{table: rows} for those of `tables` that exist on `conn`'s database (missing ones count 0)."""
    from sqlalchemy import func, inspect, select, table

    present = set(inspect(conn).get_table_names())
    return {
        name: (
            conn.execute(select(func.count()).select_from(table(name))).scalar_one() if name in present else 0
        )
        for name in tables
    }


def clear_tables(conn: Connection, tables: tuple[str, ...]) -> None:
    """Delete every row of `tables` (children first), inside the caller's transaction."""
    meta = _reflect(conn, list(tables))
    for table in reversed(meta.sorted_tables):
        conn.execute(table.delete())


def copy_tables(source: Engine, target: Connection, tables: tuple[str, ...]) -> list[TableCopy]:
    """Copy every row of `tables` from `source` into `target` (the caller's transaction, so a failure leaves
    the target as it was), parents first, in batches; then advance PostgreSQL's sequences past the copied
    integer keys, so the next row inserted there does not collide."""
    from sqlalchemy import select

    wanted = list(tables)
    # One snapshot of all the store's tables, even while replicas write (SQLite: one read transaction).
    snapshot = {"isolation_level": "REPEATABLE READ"} if source.dialect.name == "postgresql" else {}
    with source.connect().execution_options(**snapshot) as reader:
        source_meta = _reflect(reader, wanted)
        target_meta = _reflect(target, wanted)
        done: list[TableCopy] = []
        for written in target_meta.sorted_tables:
            read = source_meta.tables[written.name]
            columns = [c.name for c in written.columns if c.name in read.c]
            query = select(*(read.c[c] for c in columns)).order_by(*read.primary_key.columns)
            rows = 0
            result = reader.execution_options(yield_per=BATCH_ROWS).execute(query)
            for batch in result.partitions():
                target.execute(written.insert(), [dict(zip(columns, row, strict=True)) for row in batch])
                rows += len(batch)
            done.append(TableCopy(written.name, rows))
    if target.dialect.name == "postgresql":
        advance_sequences(target, tables)
    return done


def advance_sequences(conn: Connection, tables: tuple[str, ...]) -> None:
    """PostgreSQL: set each integer key's sequence (serial or identity) past the largest key in its table."""
    from sqlalchemy import Integer, func, select

    for table in _reflect(conn, list(tables)).sorted_tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, Integer):
                continue
            sequence = conn.execute(select(func.pg_get_serial_sequence(table.name, column.name))).scalar_one()
            if sequence is None:
                continue
            largest = select(func.coalesce(func.max(column), 0)).scalar_subquery()
            conn.execute(select(func.setval(sequence, largest + 1, False)))  # next value: largest + 1


def _reflect(conn: Connection, names: list[str]) -> MetaData:
    from sqlalchemy import MetaData

    meta = MetaData()
    meta.reflect(conn, only=names)
    return meta
