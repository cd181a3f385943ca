"""`lepton train`: train the intent model or LoRA-tune the generator."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ui.cli.common import Home, console, fail, settings_for, setup_logging

train_app = typer.Typer(help="Train models.", no_args_is_help=True)


@train_app.command("intents")
def train_intents(
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data",
            help="CSV with columns text,intent (or category). Once a model trained on them is registered, these "
            "files replace the stored training data that later retrains start from.",
        ),
    ] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Train on the bundled demo intents.")] = False,
    from_logs: Annotated[
        bool, typer.Option("--from-logs", help="Add the reviewed turns of the review queue.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Promote even if it measures worse.")] = False,
    refit: Annotated[
        bool,
        typer.Option(
            "--refit", help="After early stopping, retrain on all rows (about twice the time; intent_refit)."
        ),
    ] = False,
    home: Home = None,
) -> None:
    """Train an intent model, score it on a fixed held-out set, and promote it if it is not worse."""
    from assistant.bootstrap import demo_intent_files
    from assistant.model_registries import intent_registry
    from assistant.operations.retraining import Retraining, RetrainRunning
    from assistant.retrain_verdict import verdict

    setup_logging()
    files = list(data or []) + (demo_intent_files() if demo else [])
    for f in files:
        if not f.is_file():
            fail(f"no such file: {f}")
    settings = settings_for(home, **({"intent_refit": True} if refit else {}))
    first = intent_registry(settings).current() is None
    try:  # the server's retrain lock too: never two retrains of one home at once
        outcome = Retraining(settings).run(files or None, from_logs=from_logs, always_promote=force or first)
    except RetrainRunning as exc:
        fail(f"{exc} Try again when it has finished.")
        return
    except ValueError as exc:
        fail(str(exc))
        return
    held = outcome.metrics.get("heldout", {})
    console.print(
        f"held-out accuracy {held.get('accuracy', float('nan')):.4f}, macro-F1 {held.get('macro_f1', float('nan')):.4f}; "
        f"{outcome.reason}"
    )
    console.print(verdict(outcome.version, outcome.promoted, outcome.reason, outcome.metrics), markup=False)
    print(f"intent model {outcome.version} {'promoted' if outcome.promoted else 'registered, not promoted'}")


@train_app.command("generator")
def train_generator_cmd(
    steps: Annotated[int, typer.Option("--steps", min=1, help="Optimizer steps (batches of 4 pairs).")] = 60,
    min_pairs: Annotated[
        int, typer.Option("--min-pairs", min=1, help="Refuse with fewer approved pairs.")
    ] = 20,
    force: Annotated[bool, typer.Option("--force", help="Promote even if it measures worse.")] = False,
    home: Home = None,
) -> None:
    """LoRA-tune the local generator on approved question/answer pairs (thumbs-up or confirmed reviews).

    A fifth of the questions is held out; the adapter is registered under HOME/models/generator and promoted
    only if its answer loss there is lower than the served model's. A running server switches to it within
    model_poll_s (set generator.adapter = "off" to ignore adapters). Meant for a GPU; a few steps run on CPU.
    """
    from assistant.conversations import ConversationStore
    from assistant.model_registries import adapter_registry
    from assistant.operations.retrain_lock import RetrainRunning, retrain_lock
    from training.generator_lora import GeneratorTrainConfig, NotEnoughPairs, train_generator
    from training.generator_pairs import PairSources
    from training.review import ReviewQueue

    setup_logging()
    settings = settings_for(home)
    # The intents' retrain lock: one training at a time per home, or across every replica of the database.
    lock = retrain_lock(settings)
    try:
        lock.acquire()
    except RetrainRunning as exc:
        fail(f"{exc} Try again when it has finished.")
        return
    # The pairs come from the configured logs: the home's files, or the database every replica shares.
    turns, review = ConversationStore.from_settings(settings), ReviewQueue.from_settings(settings)
    try:
        result = train_generator(
            settings.home,
            GeneratorTrainConfig(steps=steps),
            min_pairs=min_pairs,
            model_path=Path(settings.generator.model_path) if settings.generator.model_path else None,
            force=force,
            sources=PairSources(turns, review),
            registry=adapter_registry(settings),
        )
    except NotEnoughPairs as exc:
        fail(str(exc))
        return
    finally:
        turns.close()
        review.close()
        lock.release()
    m = result.metrics
    left = m["left_out_redacted"] + m["left_out_duplicates"]
    console.print(
        f"{m['pairs']} pairs ({m['heldout_pairs']} more held out"
        + (
            f"; {m['left_out_redacted']} with redacted data and {m['left_out_duplicates']} repeats left out"
            if left
            else ""
        )
        + f"), {m['steps']} steps in {m['seconds']:.1f}s ({m['seconds_per_step']:.2f}s/step on {m['device']}); "
        f"{result.reason}"
    )
    print(
        f"generator adapter {result.version} {'promoted' if result.promoted else 'registered, not promoted'}"
    )
