"""The table copier under `lepton db migrate|export`: derived tables (FTS5 and its shadows) are never copied,
rows go both ways in batches with children after parents, and PostgreSQL's sequences move past the copied keys."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Column, Float, ForeignKey, Integer, MetaData, Table, Text, insert, select

from knowledge.database import close_engine, copying, open_engine
from knowledge.database.copying import copy_tables, count_rows, data_tables, seeded_rows, store_tables


def tables() -> MetaData:
    meta = MetaData()
    Table("docs", meta, Column("id", Text, primary_key=True), Column("body", Text))
    Table(
        "units",
        meta,
        Column("id", Text, primary_key=True),
        Column("doc_id", Text, ForeignKey("docs.id")),
        Column("score", Float),
    )
    Table("versions", meta, Column("version", Integer, primary_key=True), Column("note", Text))
    return meta


def test_rows_go_to_postgresql_and_back_without_the_derived_index(
    postgres_url: str, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(copying, "BATCH_ROWS", 7)  # several batches per table
    meta = tables()
    source = open_engine(None, tmp_path / "kb.db")
    meta.create_all(source)
    with source.begin() as conn:
        conn.exec_driver_sql("CREATE VIRTUAL TABLE units_fts USING fts5(unit_id UNINDEXED, body)")
        conn.execute(insert(meta.tables["docs"]), [{"id": f"d{i}", "body": "text"} for i in range(20)])
        conn.execute(
            insert(meta.tables["units"]),
            [{"id": f"u{i}", "doc_id": f"d{i % 20}", "score": i / 3} for i in range(50)],
        )
        conn.execute(insert(meta.tables["versions"]), [{"version": v, "note": f"v{v}"} for v in (1, 2, 5)])
        conn.exec_driver_sql("INSERT INTO units_fts SELECT id, 'body' FROM units")
        names = data_tables(conn)
    assert names.index("docs") < names.index("units")  # parents first
    assert set(names) == {"docs", "units", "versions"}  # no units_fts, no units_fts_data/_idx/...

    target = open_engine(postgres_url, tmp_path / "unused.db")
    meta.create_all(target)
    with target.begin() as conn:
        copied = {c.table: c.rows for c in copy_tables(source, conn, names)}
    assert copied == {"docs": 20, "units": 50, "versions": 3}
    with target.begin() as conn:
        assert count_rows(conn, names) == copied
        scores = conn.execute(select(meta.tables["units"].c.score)).scalars()
        assert sorted(scores) == sorted(i / 3 for i in range(50))  # doubles, bit for bit
        new = conn.execute(insert(meta.tables["versions"]).values(note="next").returning(Column("version")))
        assert new.scalar_one() == 6  # past the copied keys, not 1

    back = open_engine(None, tmp_path / "back.db")
    meta.create_all(back)
    with back.begin() as conn:
        assert {c.table: c.rows for c in copy_tables(target, conn, names)} == {**copied, "versions": 4}
    for engine in (source, back):
        close_engine(engine)


def test_each_store_lists_its_own_tables() -> None:
    assert store_tables("review") == ("items",)
    assert store_tables("keys") == ("keys",)
    conversations = store_tables("conversations")
    assert set(conversations) == {"sessions", "turns", "agent_messages", "feedback"}
    assert conversations.index("sessions") < conversations.index("turns")
    assert store_tables("models") == ("model_pointers",)
    kb = store_tables("kb")
    assert {"documents", "units", "versions", "meta"} <= set(kb)
    assert not [t for t in kb if t.startswith("units_fts")]  # FTS5 is rebuilt, never copied
    assert seeded_rows("kb") == {"meta": 2} and seeded_rows("review") == {}
