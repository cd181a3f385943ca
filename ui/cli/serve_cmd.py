"""`lepton serve`: the HTTP API with the chat page, in one process."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from ui.cli.common import Home, console, settings_for, setup_logging


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
    from ui.http.app import create_server

    setup_logging()
    settings = settings_for(home, host=host, port=port, demo=demo or None)
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
