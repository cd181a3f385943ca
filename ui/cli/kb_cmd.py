"""`lepton kb`: ingest, search, inspect and curate the knowledge base (draft, publish, rollback)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ui.cli.common import Actor, Home, console, default_actor, fail, settings_for

kb_app = typer.Typer(
    help="Knowledge base: ingest, search, inspect, curate (draft, publish, rollback).", no_args_is_help=True
)


def _kb(home: Path | None):
    from assistant.components import build_knowledge_base
    from knowledge.kb_tables import KbSchemaRefused

    kb = build_knowledge_base(settings_for(home))  # built as the server builds it
    try:
        kb.store  # noqa: B018 (opened here: a kb.db this release cannot adopt is one error line)
    except KbSchemaRefused as exc:
        fail(str(exc))
    return kb


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
        fail(f"no such file or folder: {', '.join(missing)}")
    kb = _kb(home)
    kb.warm_up()
    report = kb.ingest(list(paths), progress=True, publish=not draft, actor=actor or default_actor())
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
    """The draft's documents and template files (`change` says what publishing would change; "needs update"
    marks an item whose twin in another language was edited since)."""
    kb = _kb(home)
    docs = kb.documents()
    removed = [c for c in kb.draft_changes() if c["change"] == "removed"]
    marked = kb.needs_update()
    flagged_docs = {m["id"] for m in marked if m["kind"] == "document"}
    flagged_templates = sorted(m["id"] for m in marked if m["kind"] == "template")
    if as_json:
        docs = [{**d, "needs_update": d["id"] in flagged_docs} for d in docs]
        out = {"documents": docs, "removed": removed, "needs_update": marked}
        print(json.dumps(out, ensure_ascii=False, default=str))
        return
    for d in docs:
        mark = f"  [{d['change']}]" if d["change"] else ""
        mark += "  [needs update]" if d["id"] in flagged_docs else ""
        print(
            f"{d['id']}  {d['kind']:<9} {d['language'] or '-':<3} {d['chunks']:>3}  {d['title']}  ({d['uri']}){mark}"
        )
    for c in removed:
        print(f"{c['id']}  {c['kind']:<9} {'':<3} {'':>3}  {c['title']}  ({c['uri']})  [removed]")
    if flagged_templates:
        print(f"templates that need update: {', '.join(flagged_templates)}")


@kb_app.command("show")
def kb_show(
    doc: Annotated[str, typer.Argument(help="Document id or uri.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    home: Home = None,
) -> None:
    """One document of the draft with its text (or its templates), and what needs update in its language."""
    kb = _kb(home)
    found = kb.document(doc)
    if found is None:
        fail(f"no document {doc!r}")
        return
    marked = {(m["kind"], m["id"]): m["needs_update"] for m in kb.needs_update()}
    if found["kind"] == "document":
        status = kb.twin_status("document", found["id"])
        found = {**found, "needs_update": status["needs_update"], "twins": status["twins"]}
    else:
        found["templates"] = [
            {**t, "needs_update": marked.get(("template", t["id"]))} for t in found["templates"]
        ]
    if as_json:
        print(json.dumps(found, ensure_ascii=False, default=str))
        return
    print(
        f"# {found['title']}\n{found['uri']}  ({found['kind']}, {found['language']}, {found['chunks']} unit(s))\n"
    )
    if "templates" in found:
        for t in found["templates"]:
            mark = f" [needs update: {_mark(t['needs_update'])}]" if t["needs_update"] else ""
            print(f"- {t['id']} [{t['intent']}/{t['language']}]{mark} {t['title']}: {t['answer']}")
        return
    if found["needs_update"]:
        print(f"[needs update: {_mark(found['needs_update'])}]\n")
    for t in found["twins"]:
        state = f"needs update: {_mark(t['needs_update'])}" if t["needs_update"] else "in step"
        print(f"twin {t['id']} ({t['language']}, {t['title']}): {state}")
    if found["twins"]:
        print()
    print(found["text"])


def _mark(flag: dict) -> str:
    """A "needs update" mark on one line: which twin was edited, by whom, when, and what changed."""
    return f"{flag['source']} ({flag['source_language']}) edited by {flag['by']} {_when(flag['at'])}" + (
        f": {flag['diff']}" if flag.get("diff") else ""
    )


@kb_app.command("confirm")
def kb_confirm(
    target: Annotated[str, typer.Argument(help="Template id, or document id or uri.")],
    actor: Actor = None,
    home: Home = None,
) -> None:
    """Say a template or document is still right although its twin in another language changed."""
    kb = _kb(home)
    found = kb.document(target)
    kind, item = ("document", found["id"]) if found and found["kind"] == "document" else ("template", target)
    try:
        status = kb.confirm_twin(kind, item, actor or default_actor())
    except KeyError:
        fail(f"no document or template {target!r}")
        return
    except ValueError as exc:  # held for translation: it must be written, not confirmed
        fail(str(exc))
        return
    print(f"{kind} {status['id']} confirmed still right; it no longer needs update")


@kb_app.command("delete")
def kb_delete(
    target: Annotated[str, typer.Argument(help="Document id or uri, or template id.")],
    actor: Actor = None,
    home: Home = None,
) -> None:
    """Remove a document or template from the draft (live after `lepton kb publish`)."""
    try:
        out = _kb(home).delete(target, actor=actor or default_actor())
    except KeyError:
        fail(f"no document or template {target!r}")
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
        row = kb.publish(actor or default_actor(), note=note)
    except NothingToPublish as exc:
        fail(str(exc), code=1)
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
        kb.rollback(version, actor or default_actor())
    except UnknownVersion:
        fail(f"no published version {version}")
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
            f"{v['summary']}  ({v['documents']} docs, {v['chunks']} chunks, {v['templates']} templates)"
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
    n = kb.reindex(actor=actor or default_actor())
    print(f"reindexed {n} units")
