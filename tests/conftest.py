"""Shared fixtures: one demo home per test session (ingested and trained once), and a real server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Server:
    url: str
    home: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def demo_assistant(tmp_path_factory: pytest.TempPathFactory):
    """The assistant on a home with the bundled demo knowledge base and its trained intent model."""
    from assistant.config import load_settings
    from assistant.pipeline import Assistant

    home = tmp_path_factory.mktemp("demo-home") / "home"
    prebuilt = os.environ.get("LEPTON_TEST_DEMO_HOME")
    if prebuilt:  # developer shortcut: reuse a demo home built earlier (CI always builds afresh)
        shutil.copytree(prebuilt, home, ignore=shutil.ignore_patterns("conversations.db*", "review.db*"))
    assistant = Assistant(load_settings(home=home, demo=True))
    assistant.warm_up()
    return assistant


@pytest.fixture(scope="session")
def server(demo_assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`lepton serve` in its own process on a copy of the demo home; yields its base URL."""
    home = tmp_path_factory.mktemp("server") / "home"
    shutil.copytree(demo_assistant.settings.home, home)
    (home / "conversations.db").unlink(missing_ok=True)
    for extra in home.glob("conversations.db-*"):
        extra.unlink()
    port = free_port()
    log = (home.parent / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "serve", "--home", str(home), "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 300
    while True:
        if proc.poll() is not None:
            pytest.fail(
                f"server exited with {proc.returncode}: {(home.parent / 'server.log').read_text()[-3000:]}"
            )
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.time() > deadline:
            proc.kill()
            pytest.fail("server did not become healthy in 300 s")
        time.sleep(0.5)
    yield Server(url, home)
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
