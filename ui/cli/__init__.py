"""The `lepton` command line: builds `app` from one module per command group (imports stay lazy inside
commands, so `lepton --help`, `keys`, `review list` and `models list` load no model)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Idle OpenMP threads otherwise spin and steal the cores that generation needs (set before torch loads).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import typer  # noqa: E402

from ui.cli.chat_cmd import chat  # noqa: E402
from ui.cli.database_errors import DatabaseErrorsGroup  # noqa: E402
from ui.cli.db_cmd import db_app  # noqa: E402
from ui.cli.eval_cmd import eval_app  # noqa: E402
from ui.cli.kb_cmd import kb_app  # noqa: E402
from ui.cli.keys_cmd import keys_app  # noqa: E402
from ui.cli.models_cmd import models_app  # noqa: E402
from ui.cli.review_cmd import review_app  # noqa: E402
from ui.cli.serve_cmd import serve  # noqa: E402
from ui.cli.train_cmd import train_app  # noqa: E402

app = typer.Typer(
    cls=DatabaseErrorsGroup,
    help="Lepton: a self-hosted customer-service assistant.",
    no_args_is_help=True,
    add_completion=False,
)
app.command()(serve)
app.command()(chat)
app.add_typer(kb_app, name="kb")
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")
app.add_typer(models_app, name="models")
app.add_typer(review_app, name="review")
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")


def main() -> None:  # pragma: no cover - console entry
    app(prog_name="lepton")
