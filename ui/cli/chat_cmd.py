"""`lepton chat`: answer one message from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from ui.cli.common import Home, console, fail, settings_for


def chat(
    message: Annotated[str, typer.Argument(help="The customer's message.")],
    home: Home = None,
    session: Annotated[str | None, typer.Option(help="Continue this session.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reply object as JSON.")] = False,
) -> None:
    """Answer one message from the command line."""
    from assistant.turn import InputError, checked_message

    settings = settings_for(home)
    try:  # before importing the models' stack: bad input fails at once
        checked_message(message, settings.max_message_chars)
    except InputError as exc:
        fail(str(exc))
        return
    from assistant.pipeline import Assistant

    assistant = Assistant(settings)
    try:
        assistant.warm_up()
        reply = assistant.chat(message, session)
    except InputError as exc:
        fail(str(exc))
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
