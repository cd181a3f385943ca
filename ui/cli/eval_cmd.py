"""`lepton eval`: intents on public datasets, test conversations, the injection detector, retrieval."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ui.cli.common import Home, fail, settings_for, setup_logging

eval_app = typer.Typer(help="Evaluate on public datasets.", no_args_is_help=True)


@eval_app.command("intents")
def eval_intents(
    dataset: Annotated[str, typer.Option(help="banking77 or clinc150")],
    path: Annotated[Path, typer.Option(help="The dataset's folder, e.g. ../shared/datasets/banking77")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set", metavar="KEY=VALUE", help="Training setting, e.g. --set refit=true (repeatable)."
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Keep the trained model in this folder.")] = None,
) -> None:
    """Train on the dataset's train split and score its test split (one JSON line)."""
    from training.evaluation import check_dataset, config_from_overrides, evaluate_intents

    setup_logging()
    try:
        check_dataset(dataset, path)
        cfg = config_from_overrides(overrides or [])
    except ValueError as exc:
        fail(str(exc))
        return
    result = evaluate_intents(dataset, path, cfg, out_dir=out, progress=not as_json)
    print(json.dumps(result) if as_json else json.dumps(result, indent=2))


@eval_app.command("conversations")
def eval_conversations(
    file: Annotated[Path, typer.Argument(help="A YAML file of test conversations.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    home: Home = None,
) -> None:
    """Play test conversations through the assistant and score routes, intents, sources and languages."""
    from assistant.conversation_eval import load_conversations, run_conversations
    from assistant.pipeline import Assistant

    if not file.is_file():
        fail(f"no such file: {file}")
    try:
        conversations = load_conversations(file)
    except ValueError as exc:
        fail(str(exc))
        return
    assistant = Assistant(settings_for(home))
    assistant.warm_up()
    result = run_conversations(assistant, conversations)
    if as_json:
        print(
            json.dumps(
                {k: v for k, v in result.items() if k != "failures"} | {"failures": len(result["failures"])}
            )
        )
    else:
        print(json.dumps(result, indent=2, ensure_ascii=False))


@eval_app.command("injection")
def eval_injection(
    file: Annotated[
        Path | None,
        typer.Argument(help="A labelled JSONL set (default: the bundled injection-labelled.jsonl)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Injection detector: fit on the tuning half; row counts, precision / recall on held-out and the blind set."""
    from assistant.injection import LABELLED, evaluate

    path = file or LABELLED
    if not path.is_file():
        fail(f"no such file: {path}")
    try:
        result = evaluate(path)
    except (ValueError, KeyError) as exc:
        fail(str(exc))
        return
    print(json.dumps(result, ensure_ascii=False, indent=None if as_json else 2))


@eval_app.command("retrieval")
def eval_retrieval(
    dataset: Annotated[str, typer.Option(help="stackfaq or demo")],
    path: Annotated[
        Path | None, typer.Option(help="StackFAQ's folder or JSON file, e.g. ../shared/datasets/stackfaq")
    ] = None,
    mode: Annotated[
        str, typer.Option(help="hybrid (what search uses), dense, lexical, rrf, or all")
    ] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json")] = False,
    home: Home = None,
) -> None:
    """Retrieval quality: MRR@10, Recall@1/@5 (StackFAQ paraphrases, or the demo's questions per language)."""
    import tempfile

    from assistant.components import build_embedder
    from knowledge import KnowledgeBase, demo_paths
    from knowledge.retrieval_eval import MODES, evaluate_demo, evaluate_stackfaq

    if dataset not in ("stackfaq", "demo"):
        fail("--dataset must be stackfaq or demo")
    modes = list(MODES) if mode == "all" else [mode]
    if any(m not in MODES for m in modes):
        fail(f"--mode must be one of {', '.join(MODES)} or all")
    s = settings_for(home)
    embedder = build_embedder(s)  # the server's embedder, remote ones included
    if dataset == "stackfaq":
        if path is None or not path.exists():
            fail("--path must name the StackFAQ folder (or its JSON file)")
        result = evaluate_stackfaq(path, lambda folder: KnowledgeBase(folder, embedder=embedder), modes=modes)
    else:
        result = {}
        with tempfile.TemporaryDirectory() as tmp:
            kb = KnowledgeBase(Path(tmp), embedder=embedder)
            kb.ingest(demo_paths())
            for m in modes:
                kb.scorer.mode = m
                result[m] = evaluate_demo(kb)
    out = result[modes[0]] if len(modes) == 1 else result
    print(json.dumps(out) if as_json else json.dumps(out, indent=2))
