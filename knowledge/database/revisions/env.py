"""Alembic's environment for Lepton's stores: runs on the connection knowledge.database.upgrades hands it (in
its transaction, under its lock); there is no alembic.ini and no offline mode."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
# SQLite alters tables by copying them ("batch" mode); PostgreSQL alters them in place.
context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
