"""`lepton models`: list, promote and roll back intent models and generator adapters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ui.cli.common import Home, existing_settings, fail

models_app = typer.Typer(
    help="The model registries: intent models, and the generator's adapters (--generator).",
    no_args_is_help=True,
)


Generator = Annotated[
    bool, typer.Option("--generator", help="The generator's LoRA adapters instead of the intent models.")
]


def _registry(home: Path | None, generator: bool) -> Any:
    from assistant.model_registries import adapter_registry, intent_registry

    settings = existing_settings(home)
    return adapter_registry(settings) if generator else intent_registry(settings)


def _score(metrics: dict[str, Any], generator: bool) -> str:
    if generator:
        if "heldout_loss" not in metrics:
            return "not scored on held-out pairs"
        return (
            f"held-out answer loss {metrics['heldout_loss']:.4f} (base {metrics['heldout_loss_base']:.4f};"
            f" {metrics['pairs']} pairs, {metrics['heldout_pairs']} held out)"
        )
    held = metrics.get("heldout") or {}
    if "macro_f1" in held and "accuracy" in held:
        return (
            f"held-out macro-F1 {100 * held['macro_f1']:.2f} %, accuracy {100 * held['accuracy']:.2f} %"
            f" ({held.get('heldout_size', '?')} rows)"
        )
    return "not scored on a held-out set"


@models_app.command("list")
def models_list(
    home: Home = None, generator: Generator = False, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Every intent model version (or generator adapter) with its metrics; * marks the current one."""
    registry = _registry(home, generator)
    current = registry.current()
    rows = registry.list()
    if as_json:
        print(json.dumps(rows, default=str))
        return
    if not rows:
        print(f"no versions yet (lepton train {'generator' if generator else 'intents'} makes one)")
    for row in rows:
        mark = "*" if current and row.get("version") == current[0] else " "
        score = _score(row.get("metrics") or {}, generator)
        print(f"{mark} {row.get('version')}  {row.get('created', '')}  {score}")


@models_app.command("promote")
def models_promote(version: str, home: Home = None, generator: Generator = False) -> None:
    """Make VERSION the model the server uses (picked up without a restart)."""
    try:
        _registry(home, generator).promote(version)
    except (KeyError, FileNotFoundError, ValueError):
        flag = " --generator" if generator else ""
        fail(f"no such version: {version!r} (lepton models list{flag} shows them)")
    print(f"{version} is current")


@models_app.command("rollback")
def models_rollback(home: Home = None, generator: Generator = False) -> None:
    """Return to the previously current model."""
    version = _registry(home, generator).rollback()
    if version is None:
        fail("nothing to roll back to")
    print(f"{version} is current")
