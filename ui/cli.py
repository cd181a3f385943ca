"""The `lepton` command line."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import typer  # noqa: E402
from rich.console import Console  # noqa: E402

app = typer.Typer(help="Lepton: a self-hosted customer-service assistant.", no_args_is_help=True, add_completion=False)
kb_app = typer.Typer(help="Knowledge base: ingest, search, inspect.", no_args_is_help=True)
train_app = typer.Typer(help="Train models.", no_args_is_help=True)
eval_app = typer.Typer(help="Evaluate on public datasets.", no_args_is_help=True)
models_app = typer.Typer(help="The intent model registry.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")
app.add_typer(models_app, name="models")

console = Console(stderr=True)
Home = Annotated[Optional[Path], typer.Option("--home", help="Data folder (default $LEPTON_HOME or ./.lepton).")]


def _settings(home: Path | None, **overrides: object):
    from assistant.config import load_settings

    return load_settings(home=home, **overrides)


def _setup_logging() -> None:
    logging.basicConfig(level=os.environ.get("LEPTON_LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _fail(message: str, code: int = 2) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


@app.command()
def serve(
    home: Home = None,
    host: Annotated[Optional[str], typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default 7860).")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Load the bundled demo knowledge base on a new home.")] = False,
) -> None:
    """Run the HTTP API with the chat page at / (one process)."""
    import uvicorn

    from ui.server import create_server

    _setup_logging()
    settings = _settings(home, host=host, port=port, demo=demo or None)
    console.print(f"Lepton on http://{settings.host}:{settings.port} (home {settings.home.resolve()})")
    uvicorn.run(create_server(settings), host=settings.host, port=settings.port, log_level="info")


@app.command()
def chat(
    message: Annotated[str, typer.Argument(help="The customer's message.")],
    home: Home = None,
    session: Annotated[Optional[str], typer.Option(help="Continue this session.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reply object as JSON.")] = False,
) -> None:
    """Answer one message from the command line."""
    from assistant.pipeline import Assistant, InputError

    assistant = Assistant(_settings(home))
    assistant.warm_up()
    try:
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
    console.print(f"route={reply.route} intent={reply.intent.name} ({reply.intent.confidence:.2f}) "
                  f"language={reply.language} session={reply.session_id} {reply.latency_ms:.0f} ms")


def _kb(home: Path | None):
    from knowledge import KnowledgeBase, make_embedder

    s = _settings(home)
    return KnowledgeBase(s.kb_dir, embedder=make_embedder(s.retrieval.embedder, path=s.retrieval.embedder_path),
                         chroma_url=s.chroma_url)


@kb_app.command("ingest")
def kb_ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders.")],
    home: Home = None,
) -> None:
    """Add or update documents and templates; unchanged files cost nothing."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        _fail(f"no such file or folder: {', '.join(missing)}")
    kb = _kb(home)
    kb.warm_up()
    report = kb.ingest(list(paths), progress=True)
    console.print(
        f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
        f"removed {report.removed}, chunks {report.chunks}, errors {len(report.errors)}"
    )
    for err in report.errors:
        console.print(f"[yellow]skipped[/yellow] {err['path']}: {err['error']}")
    if report.errors:
        raise typer.Exit(1)


@kb_app.command("search")
def kb_search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("--k", min=1, max=50)] = 5,
    language: Annotated[Optional[str], typer.Option(help="Only this language (en, zh, ...).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    home: Home = None,
) -> None:
    """Search the knowledge base the way the assistant does."""
    kb = _kb(home)
    kb.warm_up()
    hits = kb.search(query, k=k, language=language)
    if as_json:
        print(json.dumps([{"id": h.id, "kind": h.kind, "uri": h.uri, "title": h.title, "score": round(h.score, 4),
                           "language": h.language, "snippet": h.snippet} for h in hits], ensure_ascii=False))
        return
    if not hits:
        console.print("nothing found above the score threshold")
    for h in hits:
        print(f"{h.score:.3f}  {h.title}  ({h.uri})\n       {h.snippet}")


@kb_app.command("stats")
def kb_stats(home: Home = None) -> None:
    """Counts of documents, chunks and templates."""
    print(json.dumps(_kb(home).stats(), default=str))


@train_app.command("intents")
def train_intents(
    data: Annotated[Optional[list[Path]], typer.Option("--data", help="CSV with columns text,intent (or category).")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Train on the bundled demo intents.")] = False,
    home: Home = None,
) -> None:
    """Train an intent model, evaluate it on a held-out part, and make it the one the server uses."""
    from assistant.bootstrap import demo_intent_files, train_and_promote

    _setup_logging()
    files = list(data or []) + (demo_intent_files() if demo else [])
    if not files:
        _fail("give --data FILE.csv (or --demo)")
    for f in files:
        if not f.is_file():
            _fail(f"no such file: {f}")
    try:
        version = train_and_promote(_settings(home), files)
    except ValueError as exc:
        _fail(str(exc))
        return
    print(f"intent model {version} trained and promoted")


def main() -> None:  # pragma: no cover - console entry
    app(prog_name="lepton")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
