"""The stores on knowledge/database and where each lives on SQLite; `lepton db upgrade` brings every store's
tables to the newest revision, in the home's files or in the configured PostgreSQL database (each store also
does this itself when it opens). Outside assistant/operations/ on purpose: that package loads the training
stack (seconds), and this command must answer at once."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from knowledge.database import branches, close_engine, open_engine, upgrade

if TYPE_CHECKING:
    from assistant.config import Settings

# Where each store's branch lives on SQLite (a file in the home). A store ported to knowledge/database adds
# its branch here; an unlisted branch is an error, not a store left behind. None: the branch is PostgreSQL's
# only (on SQLite its data stays as files, e.g. the model registries' current.json).
SQLITE_FILES: dict[str, str | None] = {
    "conversations": "conversations.db",
    "kb": "kb/kb.db",
    "keys": "keys.db",
    "models": None,
    "review": "review.db",
}


@dataclass(frozen=True)
class StoreUpgrade:
    """One store's upgrade: from which revision ("" = none) to which, and where (a file, or the database)."""

    store: str
    where: str
    before: str
    after: str
    changed: bool

    def public(self) -> dict[str, Any]:
        return asdict(self)


def upgrade_stores(settings: Settings) -> list[StoreUpgrade]:
    """Upgrade every store's branch for `settings` (its home's files, or its `database_url`)."""
    from knowledge.database.upgrades import head

    missing = sorted(set(branches()) - set(SQLITE_FILES))
    if missing:
        raise RuntimeError(f"stores without a SQLite file in SQLITE_FILES: {', '.join(missing)}")
    done: list[StoreUpgrade] = []
    for branch in branches():
        name = SQLITE_FILES[branch]
        if name is None and settings.database_url is None:
            continue
        path = settings.home / (name or f"{branch}.db")  # a PostgreSQL-only branch: the path is not used
        engine = open_engine(settings.database_url, path)
        try:
            before = upgrade(engine, branch)
        finally:
            close_engine(engine)
        where = str(settings.database_url) if settings.database_url is not None else str(path)
        target = head(branch)
        done.append(
            StoreUpgrade(branch, where, target if before is None else before, target, before is not None)
        )
    return done
