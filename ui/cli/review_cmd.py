"""`lepton review`: the queue of turns a person should look at (list, label, fix, discard)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ui.cli.common import Actor, Home, default_actor, existing_settings, fail

review_app = typer.Typer(help="The review queue of turns a person should look at.", no_args_is_help=True)
SameText = Annotated[
    bool, typer.Option("--same-text", help="Also every other pending item with the same text (case aside).")
]


@review_app.command("list")
def review_list(
    status: Annotated[str, typer.Option(help="pending, confirmed, corrected, discarded")] = "pending",
    limit: Annotated[int, typer.Option(min=1)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    home: Home = None,
) -> None:
    """Turns waiting for a person: unanswered, out of scope, unsure, handed off, thumbs down."""
    from training.review import ReviewQueue

    with ReviewQueue.from_settings(existing_settings(home)) as queue:
        items = queue.items(status, limit)
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
    from assistant.operations import Conflict, Invalid, NotFound
    from assistant.operations.review_desk import ReviewDesk
    from training.review import ReviewQueue

    settings = existing_settings(home)
    queue = ReviewQueue.from_settings(settings)
    desk = ReviewDesk(settings, lambda: queue, lambda: None)  # the API's rule: a known intent, or --new
    try:
        row = desk.resolve(item, intent, new=new, same_text=same_text)
    except NotFound:
        fail(f"no review item #{item}")
        return
    except (Invalid, Conflict) as exc:
        fail(str(exc))
        return
    finally:
        queue.close()
    intent = row.get("label") or intent.strip()
    print(f"#{item} {row['status']} as {intent}{_also(row)}")


@review_app.command("fix")
def review_fix(
    item: int,
    answer: Annotated[str, typer.Option("--answer", help="The right answer, as customers should read it.")],
    intent: Annotated[str, typer.Option("--intent", help="The intent it answers (a known one, or --new).")],
    new: Annotated[bool, typer.Option("--new", help="INTENT is a new intent.")] = False,
    language: Annotated[
        str | None, typer.Option(help="The answer's language (default: read from the text).")
    ] = None,
    title: Annotated[str | None, typer.Option(help="Its title (default: the customer's question).")] = None,
    snippet: Annotated[
        bool, typer.Option("--snippet", help="A short knowledge-base article instead of a template.")
    ] = False,
    same_text: SameText = False,
    actor: Actor = None,
    home: Home = None,
) -> None:
    """Write the right answer for review item ITEM: a draft template of INTENT in each language the knowledge
    base has (the others held until translated), or a snippet; the question joins the training data.
    `lepton kb publish` makes it live."""
    from assistant.components import build_knowledge_base
    from assistant.operations import Invalid, NotFound
    from assistant.operations.answer_fix import PUBLISH_HINT, AnswerFix
    from assistant.operations.curation_ops import KnowledgeCuration
    from assistant.operations.review_desk import ReviewDesk
    from training.review import ReviewQueue

    settings = existing_settings(home)
    queue = ReviewQueue.from_settings(settings)
    kb = build_knowledge_base(settings)  # built as the server builds it
    desk = ReviewDesk(settings, lambda: queue, lambda: kb)
    curation = KnowledgeCuration(kb)
    try:
        done = AnswerFix(desk, lambda: curation).write(
            item,
            answer,
            intent,
            new_intent=new,
            language=language,
            title=title,
            snippet=snippet,
            same_text=same_text,
            reviewer=actor or default_actor(),
        )
    except NotFound:
        fail(f"no review item #{item}")
        return
    except Invalid as exc:
        fail(str(exc))
        return
    print(done["said"].replace(PUBLISH_HINT, "Nothing is live yet: `lepton kb publish` makes it live."))


@review_app.command("discard")
def review_discard(item: int, same_text: SameText = False, home: Home = None) -> None:
    """Drop review item ITEM (it never becomes training data)."""
    from training.review import AlreadyReviewed, ReviewQueue

    try:
        with ReviewQueue.from_settings(existing_settings(home)) as queue:
            row = queue.resolve(item, None, same_text=same_text)
    except KeyError:
        fail(f"no review item #{item}")
        return
    except AlreadyReviewed as exc:
        fail(f"review item #{item} is {exc.item['status']} already")
        return
    print(f"#{item} discarded{_also(row)}")


def _also(row: dict) -> str:
    n = row.get("also_resolved", 0)
    return f" (and {n} more pending item{'s' if n != 1 else ''} with the same text)" if n else ""
