"""`lepton db`: the stores' database (the home's SQLite files, or PostgreSQL when `database_url` is set)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ui.cli.common import Home, fail, settings_for

db_app = typer.Typer(
    help="The stores' database: SQLite files in the home or PostgreSQL.", no_args_is_help=True
)


@db_app.command("upgrade")
def db_upgrade(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, a row per store.")] = False,
    home: Home = None,
) -> None:
    """Run every store's migrations now (servers also run them when they start)."""
    from assistant.database_stores import upgrade_stores

    settings = settings_for(home)
    try:
        done = upgrade_stores(settings)
    except Exception as exc:  # a server that cannot be reached, a refused login: say it in one line
        fail(f"upgrade failed: {type(exc).__name__}: {_first_line(exc)}")
        return
    if as_json:
        print(json.dumps([d.public() for d in done]))
        return
    for d in done:
        state = f"upgraded {d.before or 'nothing'} -> {d.after}" if d.changed else f"up to date ({d.after})"
        print(f"{d.store}: {state}  ({d.where})")


def _first_line(exc: Exception) -> str:
    """The error's first line: a driver's message can run over many lines of SQL and hints."""
    from knowledge.database import redact_url

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    # Drivers quote the URL they failed on in some messages: never print its password.
    return " ".join(redact_url(w) if "://" in w else w for w in text.split(" "))
