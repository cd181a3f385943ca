"""A store's after-copy hook (the rebuild of a derived index) runs on the target inside the store's copy
transaction, after its rows are in; a failure there leaves that store empty on the target, never half-copied."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from assistant import home_moves
from assistant.config import load_settings
from knowledge.database import open_engine
from training.review import ITEMS, ReviewQueue


def small_home(home: Path) -> Path:
    queue = ReviewQueue(home / "review.db")
    for n in range(3):
        queue.add(f"turn-{n}", f"question {n}", "low_confidence")
    queue.close()
    return home


def test_the_hook_sees_the_rows_and_a_failing_one_leaves_the_store_empty(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = small_home(tmp_path / "home")
    settings = load_settings(home=home, database_url=postgres_url)
    seen: list[tuple[str, int]] = []

    def failing(conn) -> None:
        seen.append((conn.dialect.name, conn.execute(select(func.count()).select_from(ITEMS)).scalar_one()))
        raise RuntimeError("index rebuild failed")

    monkeypatch.setitem(home_moves.AFTER_COPY, "review", failing)
    with pytest.raises(RuntimeError, match="index rebuild failed"):
        home_moves.migrate_home(settings)
    assert seen == [("postgresql", 3)]
    with open_engine(postgres_url, home / "unused.db").connect() as conn:
        assert conn.execute(select(func.count()).select_from(ITEMS)).scalar_one() == 0

    monkeypatch.setitem(home_moves.AFTER_COPY, "review", lambda conn: seen.append(("again", 0)))
    # Stores copied before the failing one stand; --replace copies the whole home again.
    moves = home_moves.migrate_home(settings, replace=True)
    assert {m.store: m.tables for m in moves}["review"] == {"items": 3} and seen[-1] == ("again", 0)
