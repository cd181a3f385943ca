"""The `lepton` command line."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Idle OpenMP threads otherwise spin and steal the cores that generation needs (set before torch loads).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import typer  # noqa: E402
from rich.console import Console  # noqa: E402

from ui.keys_cli import keys_app  # noqa: E402

app = typer.Typer(
    help="Lepton: a self-hosted customer-service assistant.", no_args_is_help=True, add_completion=False
)
kb_app = typer.Typer(
    help="Knowledge base: ingest, search, inspect, curate (draft, publish, rollback).", no_args_is_help=True
)
train_app = typer.Typer(help="Train models.", no_args_is_help=True)
eval_app = typer.Typer(help="Evaluate on public datasets.", no_args_is_help=True)
models_app = typer.Typer(
    help="The model registries: intent models, and the generator's adapters (--generator).",
    no_args_is_help=True,
)
review_app = typer.Typer(help="The review queue of turns a person should look at.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")
app.add_typer(models_app, name="models")
app.add_typer(review_app, name="review")
app.add_typer(keys_app, name="keys")

console = Console(stderr=True)
Home = Annotated[Path | None, typer.Option("--home", help="Data folder (default $LEPTON_HOME or ./.lepton).")]
SameText = Annotated[
    bool, typer.Option("--same-text", help="Also every other pending item with the same text (case aside).")
]


def _settings(home: Path | None, **overrides: object):
    from assistant.config import load_settings

    return load_settings(home=home, **overrides)


def _existing(home: Path | None) -> Any:
    """Settings of a home that exists: reading the queue or the registry of a mistyped --home must say so, not
    create an empty one there."""
    settings = _settings(home)
    if not settings.home.is_dir():
        _fail(f"no Lepton home at {settings.home} (pass --home, or set LEPTON_HOME)")
    return settings


def _setup_logging() -> None:
    logging.basicConfig(
        level=os.environ.get("LEPTON_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _fail(message: str, code: int = 2) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


@app.command()
def serve(
    home: Home = None,
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 7860).")] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Load the bundled demo knowledge base on a new home.")
    ] = False,
) -> None:
    """Run the HTTP API with the chat page at / (one process)."""
    import uvicorn

    from assistant.home import PRIVATE_UMASK, make_private
    from ui.server import create_server

    _setup_logging()
    settings = _settings(home, host=host, port=port, demo=demo or None)
    # Everything the server writes (databases and their -wal/-shm, Chroma, models, uploads) is private.
    os.umask(PRIVATE_UMASK)
    make_private(settings.home)
    console.print(f"Lepton on http://{settings.host}:{settings.port} (home {settings.home.resolve()})")
    proxies = settings.trusted_proxies
    uvicorn.run(
        create_server(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        # X-Forwarded-For decides the client address (and so its rate-limit bucket): only from our proxies.
        proxy_headers=bool(proxies),
        forwarded_allow_ips=",".join(proxies) or None,
    )


@app.command()
def chat(
    message: Annotated[str, typer.Argument(help="The customer's message.")],
    home: Home = None,
    session: Annotated[str | None, typer.Option(help="Continue this session.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reply object as JSON.")] = False,
) -> None:
    """Answer one message from the command line."""
    from assistant.pipeline import Assistant, InputError

    assistant = Assistant(_settings(home))
    try:
        assistant.validate_message(message)  # before loading any model: bad input fails fast
        assistant.warm_up()
        reply = assistant.chat(message, session)
    except InputError as exc:
        _fail(str(exc))
        return
    if as_json:
        print(reply.model_dump_json())
        return
    print(reply.reply)
    for s in reply.sources:
        print(f"  [{s.title}] {s.uri}")
    console.print(
        f"route={reply.route} intent={reply.intent.name} ({reply.intent.confidence:.2f}) "
        f"language={reply.language} session={reply.session_id} {reply.latency_ms:.0f} ms"
    )


def _kb(home: Path | None):
    from knowledge import KnowledgeBase, make_embedder

    s = _settings(home)
    return KnowledgeBase(
        s.kb_dir,
        embedder=make_embedder(s.retrieval.embedder, path=s.retrieval.embedder_path),
        chroma_url=s.chroma_url,
    )


def _actor() -> str:
    return f"cli:{os.environ.get('USER') or os.environ.get('USERNAME') or 'unknown'}"


Actor = Annotated[
    str | None, typer.Option("--actor", help="Who makes the change, for the audit log (default cli:$USER).")
]


@kb_app.command("ingest")
def kb_ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders.")],
    draft: Annotated[
        bool, typer.Option("--draft", help="Stage the changes only; `lepton kb publish` makes them live.")
    ] = False,
    actor: Actor = None,
    home: Home = None,
) -> None:
    """Add or update documents and templates; unchanged files cost nothing. Publishes unless --draft."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        _fail(f"no such file or folder: {', '.join(missing)}")
    kb = _kb(home)
    kb.warm_up()
    report = kb.ingest(list(paths), progress=True, publish=not draft, actor=actor or _actor())
    published = f", published version {report.version}" if report.version else ""
    staged = f", {len(kb.draft_changes())} document(s) staged in the draft" if draft else ""
    console.print(
        f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
        f"removed {report.removed}, chunks {report.chunks}, errors {len(report.errors)}{published}{staged}"
    )
    for err in report.errors:
        console.print(f"[yellow]skipped[/yellow] {err['path']}: {err['error']}")
    if report.errors:
        raise typer.Exit(1)


@kb_app.command("search")
def kb_search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("--k", min=1, max=50)] = 5,
    language: Annotated[str | None, typer.Option(help="Only this language (en, zh, ...).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    home: Home = None,
) -> None:
    """Search the knowledge base the way the assistant does."""
    kb = _kb(home)
    kb.warm_up()
    hits = kb.search(query, k=k, language=language)
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "id": h.id,
                        "kind": h.kind,
                        "uri": h.uri,
                        "title": h.title,
                        "score": round(h.score, 4),
                        "language": h.language,
                        "snippet": h.snippet,
                    }
                    for h in hits
                ],
                ensure_ascii=False,
            )
        )
        return
    if not hits:
        console.print("nothing found above the score threshold")
    for h in hits:
        print(f"{h.score:.3f}  {h.title}  ({h.uri})\n       {h.snippet}")


@kb_app.command("stats")
def kb_stats(home: Home = None) -> None:
    """Counts of live documents, chunks and templates, the live version and pending draft changes."""
    print(json.dumps(_kb(home).stats(), default=str))


def _when(ts: float | None) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"


@kb_app.command("list")
def kb_list(as_json: Annotated[bool, typer.Option("--json")] = False, home: Home = None) -> None:
    """The draft's documents and template files (`change` says what publishing would change)."""
    kb = _kb(home)
    docs = kb.documents()
    removed = [c for c in kb.draft_changes() if c["change"] == "removed"]
    if as_json:
        print(json.dumps({"documents": docs, "removed": removed}, ensure_ascii=False, default=str))
        return
    for d in docs:
        mark = f"  [{d['change']}]" if d["change"] else ""
        print(
            f"{d['id']}  {d['kind']:<9} {d['language'] or '-':<3} {d['chunks']:>3}  {d['title']}  ({d['uri']}){mark}"
        )
    for c in removed:
        print(f"{c['id']}  {c['kind']:<9} {'':<3} {'':>3}  {c['title']}  ({c['uri']})  [removed]")


@kb_app.command("show")
def kb_show(
    doc: Annotated[str, typer.Argument(help="Document id or uri.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    home: Home = None,
) -> None:
    """One document of the draft with its text (or its templates)."""
    found = _kb(home).document(doc)
    if found is None:
        _fail(f"no document {doc!r}")
        return
    if as_json:
        print(json.dumps(found, ensure_ascii=False, default=str))
        return
    print(
        f"# {found['title']}\n{found['uri']}  ({found['kind']}, {found['language']}, {found['chunks']} unit(s))\n"
    )
    if "templates" in found:
        for t in found["templates"]:
            print(f"- {t['id']} [{t['intent']}/{t['language']}] {t['title']}: {t['answer']}")
    else:
        print(found["text"])


@kb_app.command("delete")
def kb_delete(
    target: Annotated[str, typer.Argument(help="Document id or uri, or template id.")],
    actor: Actor = None,
    home: Home = None,
) -> None:
    """Remove a document or template from the draft (live after `lepton kb publish`)."""
    try:
        out = _kb(home).delete(target, actor=actor or _actor())
    except KeyError:
        _fail(f"no document or template {target!r}")
        return
    print(f"deleted {out['deleted']} {out['id']} from the draft; publish to make it live")


@kb_app.command("publish")
def kb_publish(
    note: Annotated[str, typer.Option(help="What changed, for the version list.")] = "",
    actor: Actor = None,
    home: Home = None,
) -> None:
    """Make the draft live as a new version."""
    from knowledge.versions import NothingToPublish

    kb = _kb(home)
    kb.warm_up()
    try:
        row = kb.publish(actor or _actor(), note=note)
    except NothingToPublish as exc:
        _fail(str(exc), code=1)
        return
    print(
        f"version {row['version']} is live ({row['documents']} documents, {row['chunks']} chunks, "
        f"{row['templates']} templates)"
    )


@kb_app.command("rollback")
def kb_rollback(
    version: Annotated[int, typer.Argument(help="A published version number.")],
    actor: Actor = None,
    home: Home = None,
) -> None:
    """Make an earlier version live again (the draft is reset to it)."""
    from knowledge.versions import UnknownVersion

    kb = _kb(home)
    kb.warm_up()
    try:
        kb.rollback(version, actor or _actor())
    except UnknownVersion:
        _fail(f"no published version {version}")
        return
    print(f"version {version} is live")


@kb_app.command("versions")
def kb_versions(as_json: Annotated[bool, typer.Option("--json")] = False, home: Home = None) -> None:
    """Published versions, newest first; * marks the live one."""
    rows = _kb(home).versions()
    if as_json:
        print(json.dumps(rows, default=str))
        return
    for v in rows:
        print(
            f"{'*' if v['live'] else ' '} v{v['version']:<4} {_when(v['created_at'])}  {v['actor']:<16} "
            f"{v['documents']} docs, {v['chunks']} chunks, {v['templates']} templates  {v['note'] or ''}"
        )


@kb_app.command("audit")
def kb_audit(
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    home: Home = None,
) -> None:
    """Who changed what, when (newest first)."""
    rows = _kb(home).audit(limit)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, default=str))
        return
    for e in rows:
        print(
            f"{_when(e['at'])}  {e['actor']:<16} {e['action']:<16} {e['target']}  "
            f"{json.dumps(e['detail'], ensure_ascii=False)}"
        )


@kb_app.command("reindex")
def kb_reindex(actor: Actor = None, home: Home = None) -> None:
    """Rebuild the vector index from SQLite (after changing the embedder, or a lost chroma/ folder)."""
    kb = _kb(home)
    n = kb.reindex(actor=actor or _actor())
    print(f"reindexed {n} units")


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
    from assistant.learning import retrain

    _setup_logging()
    files = list(data or []) + (demo_intent_files() if demo else [])
    for f in files:
        if not f.is_file():
            _fail(f"no such file: {f}")
    settings = _settings(home, **({"intent_refit": True} if refit else {}))
    first = not (settings.intents_dir / "current.json").exists()
    try:
        outcome = retrain(settings, files or None, from_logs=from_logs, always_promote=force or first)
    except ValueError as exc:
        _fail(str(exc))
        return
    held = outcome.metrics.get("heldout", {})
    console.print(
        f"held-out accuracy {held.get('accuracy', float('nan')):.4f}, macro-F1 {held.get('macro_f1', float('nan')):.4f}; "
        f"{outcome.reason}"
    )
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
    from training.generator_lora import GeneratorTrainConfig, NotEnoughPairs, train_generator

    _setup_logging()
    settings = _settings(home)
    try:
        result = train_generator(
            settings.home,
            GeneratorTrainConfig(steps=steps),
            min_pairs=min_pairs,
            model_path=Path(settings.generator.model_path) if settings.generator.model_path else None,
            force=force,
        )
    except NotEnoughPairs as exc:
        _fail(str(exc))
        return
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


Generator = Annotated[
    bool, typer.Option("--generator", help="The generator's LoRA adapters instead of the intent models.")
]


def _registry(home: Path | None, generator: bool) -> Any:
    from training import ModelRegistry
    from training.generator_lora import generator_registry

    settings = _existing(home)
    return generator_registry(settings.home) if generator else ModelRegistry(settings.intents_dir)


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
        _fail(f"no such version: {version!r} (lepton models list{flag} shows them)")
    print(f"{version} is current")


@models_app.command("rollback")
def models_rollback(home: Home = None, generator: Generator = False) -> None:
    """Return to the previously current model."""
    version = _registry(home, generator).rollback()
    if version is None:
        _fail("nothing to roll back to")
    print(f"{version} is current")


@review_app.command("list")
def review_list(
    status: Annotated[str, typer.Option(help="pending, confirmed, corrected, discarded")] = "pending",
    limit: Annotated[int, typer.Option(min=1)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    home: Home = None,
) -> None:
    """Turns waiting for a person: unanswered, out of scope, unsure, handed off, thumbs down."""
    from training.review import ReviewQueue

    items = ReviewQueue(_existing(home).home / "review.db").items(status, limit)
    if as_json:
        print(json.dumps(items, ensure_ascii=False))
        return
    for it in items:
        copies = f"  ×{it['copies']}" if it.get("copies", 1) > 1 else ""
        print(
            f"#{it['id']}  [{it['reasons']}]  {it['predicted']} ({it['confidence']:.2f}){copies}  {it['text']}"
        )


@review_app.command("label")
def review_label(
    item: int,
    intent: str,
    new: Annotated[
        bool,
        typer.Option("--new", help="INTENT is a new intent (otherwise it must be one the assistant knows)."),
    ] = False,
    same_text: SameText = False,
    home: Home = None,
) -> None:
    """Confirm or correct the intent of review item ITEM; it joins the training data."""
    from assistant.review_labels import UnknownIntent, check_label, known_intents
    from training.review import ReviewQueue

    settings = _existing(home)
    queue = ReviewQueue(settings.home / "review.db")
    if queue.get(item) is None:
        _fail(f"no review item #{item}")
    try:
        intent = check_label(intent, known_intents(settings), new=new)
    except UnknownIntent as exc:
        _fail(str(exc))
    row = queue.resolve(item, intent, same_text=same_text)
    print(f"#{item} {row['status']} as {intent}{_also(row)}")


@review_app.command("discard")
def review_discard(item: int, same_text: SameText = False, home: Home = None) -> None:
    """Drop review item ITEM (it never becomes training data)."""
    from training.review import ReviewQueue

    try:
        row = ReviewQueue(_existing(home).home / "review.db").resolve(item, None, same_text=same_text)
    except KeyError:
        _fail(f"no review item #{item}")
        return
    print(f"#{item} discarded{_also(row)}")


def _also(row: dict) -> str:
    n = row.get("also_resolved", 0)
    return f" (and {n} more pending item{'s' if n != 1 else ''} with the same text)" if n else ""


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

    _setup_logging()
    try:
        check_dataset(dataset, path)
        cfg = config_from_overrides(overrides or [])
    except ValueError as exc:
        _fail(str(exc))
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
    from assistant.evaluation import load_conversations, run_conversations
    from assistant.pipeline import Assistant

    if not file.is_file():
        _fail(f"no such file: {file}")
    try:
        conversations = load_conversations(file)
    except ValueError as exc:
        _fail(str(exc))
        return
    assistant = Assistant(_settings(home))
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
        _fail(f"no such file: {path}")
    try:
        result = evaluate(path)
    except (ValueError, KeyError) as exc:
        _fail(str(exc))
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

    from knowledge import KnowledgeBase, demo_paths, make_embedder
    from knowledge.evaluation import MODES, evaluate_demo, evaluate_stackfaq

    if dataset not in ("stackfaq", "demo"):
        _fail("--dataset must be stackfaq or demo")
    modes = list(MODES) if mode == "all" else [mode]
    if any(m not in MODES for m in modes):
        _fail(f"--mode must be one of {', '.join(MODES)} or all")
    s = _settings(home)
    embedder = make_embedder(s.retrieval.embedder, path=s.retrieval.embedder_path)
    if dataset == "stackfaq":
        if path is None or not path.exists():
            _fail("--path must name the StackFAQ folder (or its JSON file)")
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


def main() -> None:  # pragma: no cover - console entry
    app(prog_name="lepton")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
