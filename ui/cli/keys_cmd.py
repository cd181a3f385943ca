"""`lepton keys`: create, list and revoke API keys (admin keys, widget keys bound to origins)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ui.cli.common import Home, console, fail

keys_app = typer.Typer(help="API keys: admin keys and widget keys bound to origins.", no_args_is_help=True)


def _store(home: Path | None):
    from assistant.config import load_settings
    from assistant.keys import KeyPepperError, KeyStore

    try:
        return KeyStore.from_settings(load_settings(home=home))
    except KeyPepperError as exc:
        fail(str(exc))


@keys_app.command("create")
def keys_create(
    kind: Annotated[str, typer.Option("--kind", help="admin or widget.")],
    origin: Annotated[
        list[str] | None,
        typer.Option(
            "--origin", help="A site that embeds the widget (https://shop.example.com); repeat for several."
        ),
    ] = None,
    name: Annotated[str, typer.Option("--name", help="A label to recognise the key by.")] = "",
    home: Home = None,
) -> None:
    """Create a key; the key itself is printed once, as the last line, and never stored."""
    try:
        key = _store(home).create(kind, origin or [], name=name)
    except ValueError as exc:
        fail(str(exc))
        return
    console.print(
        f"created {'an' if kind == 'admin' else 'a'} {kind} key; copy it now, it cannot be shown again"
    )
    print(key)


@keys_app.command("list")
def keys_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
    home: Home = None,
) -> None:
    """Every key (never the key itself): id, kind, name, origins, revoked."""
    infos = [k.public() for k in _store(home).list()]
    if as_json:
        print(json.dumps(infos))
        return
    if not infos:
        console.print("no keys yet: lepton keys create --kind admin")
    for k in infos:
        state = "revoked" if k["revoked"] else "live"
        print(f"{k['id']}  {k['kind']:<6}  {state:<7}  {k['name'] or '-'}  {' '.join(k['origins'])}".rstrip())


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(metavar="ID", help="The id shown by `lepton keys list`.")],
    home: Home = None,
) -> None:
    """Revoke a key at once (running servers stop accepting it on the next request)."""
    if not _store(home).revoke(key_id):
        fail(f"no live key with id {key_id}")
    print(f"revoked {key_id}")
