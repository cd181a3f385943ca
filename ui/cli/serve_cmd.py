"""`lepton serve`: the HTTP API with the chat page, in one process."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from ui.cli.common import Home, console, fail, settings_for, setup_logging


def serve(
    home: Home = None,
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 7860).")] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Load the bundled demo knowledge base on a new home.")
    ] = False,
) -> None:
    """Run the HTTP API with the chat page at / (one process)."""
    setup_logging()
    settings = settings_for(home, host=host, port=port, demo=demo or None)
    if settings.database_url is not None:  # without a shared pepper, refuse before the server stack loads
        from assistant.keys import KeyPepperError, shared_pepper

        try:
            shared_pepper(settings)
        except KeyPepperError as exc:
            fail(str(exc))

    import uvicorn

    from assistant.components import unshared_vectors_warning
    from assistant.home import PRIVATE_UMASK, make_private
    from assistant.model_registries import unshared_models_warning
    from knowledge.runtime_env import set_model_threads
    from ui.http.app import create_server

    # Everything the server writes (databases and their -wal/-shm, Chroma, models, uploads) is private.
    os.umask(PRIVATE_UMASK)
    set_model_threads(settings.model_threads)
    make_private(settings.home)
    where = f"home {settings.home.resolve()}"
    if settings.database_url is not None:
        where += f", database {settings.database_url}"  # str() shows the URL with its password as ***
    if settings.artifact_dir is not None:
        where += f", models {settings.artifact_dir}"
    console.print(f"Lepton on http://{settings.host}:{settings.port} ({where})")
    for unshared in (unshared_models_warning(settings), unshared_vectors_warning(settings)):
        if unshared:
            console.print(f"warning: {unshared}", markup=False, style="yellow")
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
