"""What every `lepton` command group shares: the --home and --actor options, settings, errors, logging."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

console = Console(stderr=True)
Home = Annotated[Path | None, typer.Option("--home", help="Data folder (default $LEPTON_HOME or ./.lepton).")]
Actor = Annotated[
    str | None, typer.Option("--actor", help="Who makes the change, for the audit log (default cli:$USER).")
]


def settings_for(home: Path | None, **overrides: object) -> Any:
    from assistant.config import load_settings

    return load_settings(home=home, **overrides)


def existing_settings(home: Path | None) -> Any:
    """Settings of a home that exists: reading the queue or the registry of a mistyped --home must say so, not
    create an empty one there."""
    settings = settings_for(home)
    if not settings.home.is_dir():
        fail(f"no Lepton home at {settings.home} (pass --home, or set LEPTON_HOME)")
    return settings


def setup_logging() -> None:
    logging.basicConfig(
        level=os.environ.get("LEPTON_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def fail(message: str, code: int = 2) -> None:
    # The message may quote user input or a server's words: shown as text, on one line however long.
    console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def default_actor() -> str:
    return f"cli:{os.environ.get('USER') or os.environ.get('USERNAME') or 'unknown'}"
