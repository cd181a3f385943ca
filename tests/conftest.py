"""Shared fixtures: one demo home per test session (ingested and trained once), and a real server."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.database_server import PostgresServer, start_server

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
    # A developer may reuse a demo home built earlier (LEPTON_TEST_DEMO_HOME); CI always builds one afresh, and
    # `pytest -n 2` (make test) builds it once for all workers.
    prebuilt = os.environ.get("LEPTON_TEST_DEMO_HOME") or _shared_demo_home(tmp_path_factory)
    if prebuilt:
        shutil.copytree(prebuilt, home, ignore=shutil.ignore_patterns("conversations.db*", "review.db*"))
    assistant = Assistant(load_settings(home=home, demo=True))
    assistant.warm_up()
    return assistant


def _shared_demo_home(tmp_path_factory: pytest.TempPathFactory) -> str | None:
    """Under pytest-xdist: the demo home trained once by the first worker to get here (the others wait on a
    file lock, then copy it); None in a single process, which trains its own."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return None
    from filelock import FileLock

    from assistant.config import load_settings
    from assistant.pipeline import Assistant

    root = tmp_path_factory.getbasetemp().parent / "shared-demo-home"
    done = root / "built"
    with FileLock(f"{root}.lock"):
        if not done.exists():
            shutil.rmtree(root, ignore_errors=True)
            builder = Assistant(load_settings(home=root / "home", demo=True))
            builder.warm_up()  # its files are then copied as the single-process run copies a live home
            done.touch()
    return str(root / "home")


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


# -- `lepton serve` processes on copies of the trained demo home (fault and security suites) --------------
ORIGIN = "https://shop.example.com"
FOREIGN = "https://evil.example.net"

# Slot-free template answers in the demo: no generator, no retrieval, no handoff.
TEMPLATE_MESSAGES = [
    "how do I reset my password",
    "How much is express shipping?",
    "Do gift cards expire?",
    "Can I change the delivery address after ordering?",
    "Do you price match if I find it cheaper elsewhere?",
    "Do you deliver to Canada and who pays the import duties?",
    "What is your warranty on laptops?",
]
QUIET = {
    "LEPTON_GENERATOR__BACKEND": "none",
    "LEPTON_RATE_LIMIT_PER_MINUTE": "100000",
    "LEPTON_LOG_LEVEL": "INFO",
    "COLUMNS": "1000",
}  # wide: rich must not wrap file names in the CLI's messages


def cli(
    *args: str, home: Path, env: dict[str, str] | None = None, timeout: float = 600, **kwargs
) -> subprocess.CompletedProcess:
    """Run `lepton ARGS --home HOME` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", *args, "--home", str(home)],
        cwd=ROOT,
        env={**os.environ, **QUIET, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def copy_home(src: Path, dst: Path) -> Path:
    """A copy of a trained home without its logs (the copy starts with empty conversations)."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("conversations.db*", "review.db*"))
    return dst


@dataclass
class Proc:
    """One `lepton serve` process on its own home; restartable on the same home and port."""

    home: Path
    port: int
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None
    starts: int = 0
    _logs: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 600) -> Proc:
        self.starts += 1
        log = self.log_path.with_suffix(f".{self.starts}.log")
        self._logs.append(log)
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "ui.cli", "serve", "--home", str(self.home), "--port", str(self.port)],
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.time() + timeout_s
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited with {self.proc.returncode}: {self.log()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                self.kill9()
                pytest.fail(f"server did not become healthy in {timeout_s:.0f} s: {self.log()[-3000:]}")
            time.sleep(0.5)

    def log(self) -> str:
        return "".join(p.read_text(errors="replace") for p in self._logs if p.exists())

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)

    def stop(self) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=10).status_code == 200
        except httpx.HTTPError:
            return False


@pytest.fixture(scope="session")
def trained_home(request: pytest.FixtureRequest) -> Path:
    """A trained demo home to copy (never written to)."""
    prebuilt = os.environ.get("LEPTON_TEST_DEMO_HOME")
    if prebuilt:
        return Path(prebuilt)
    return request.getfixturevalue("demo_assistant").settings.home


# Servers `launch` made, and whether each serves the whole session (else it stops with its test module).
_LAUNCHED: list[tuple[Proc, bool]] = []


@pytest.fixture(scope="session")
def launch(trained_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Proc]]:
    """launch(env=..., start=True, keep=False) -> a server on a fresh copy of the demo home. It stops at the end
    of the test module that made it (each idle server holds about 1 GB), or of the session with `keep` (for
    session-scoped fixtures)."""

    def make(
        env: dict[str, str] | None = None, start: bool = True, name: str = "srv", keep: bool = False
    ) -> Proc:
        root = tmp_path_factory.mktemp(name)
        home = copy_home(trained_home, root / "home")
        p = Proc(home=home, port=free_port(), env={**QUIET, **(env or {})}, log_path=root / "server.log")
        _LAUNCHED.append((p, keep))
        return p.start() if start else p

    yield make
    for p, _ in _LAUNCHED:
        p.stop()


@pytest.fixture(scope="module", autouse=True)
def _stop_the_modules_servers() -> Iterator[None]:
    """After each module (its own fixtures torn down first), stop the servers it launched without `keep`."""
    first = len(_LAUNCHED)
    yield
    for p, keep in _LAUNCHED[first:]:
        if not keep:
            p.stop()


@pytest.fixture
def fresh_home(trained_home: Path, tmp_path: Path) -> Path:
    """A private copy of the trained demo home for one test."""
    return copy_home(trained_home, tmp_path / "home")


@pytest.fixture(scope="session")
def run_cli() -> Callable[..., subprocess.CompletedProcess]:
    """run_cli(*args, home=..., env=..., timeout=...) -> CompletedProcess of `lepton ARGS --home HOME`."""
    return cli


@pytest.fixture(scope="session")
def template_messages() -> list[str]:
    return list(TEMPLATE_MESSAGES)


@dataclass
class Keys:
    admin: str
    widget: str


# -- Debian's Chromium for the browser tests (never `playwright install`) -------------------------------
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module."""
    from playwright.sync_api import sync_playwright

    if not shutil.which("chromium"):
        pytest.fail("Debian's chromium is not installed: apt-get install chromium (.ci/run does it)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


# -- A real PostgreSQL (tests/database_server.py): one server per session, a fresh database per test ---------
@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (started on first use; fails, never skips, without the binaries)."""
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """postgresql://… of an empty database of this test's own, dropped afterwards."""
    from knowledge.database import dispose_engines

    name = (
        f"t_{os.getpid()}_{re.sub(r'[^a-z0-9]+', '_', request.node.name.lower())[:40]}_{secrets.token_hex(3)}"
    )
    url = postgres_server.create_database(name)
    yield url
    dispose_engines()  # this process's pooled connections to it
    postgres_server.drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """Each test that takes it runs twice: None (SQLite files in the home) and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("postgres_url")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test on the real PostgreSQL is marked `postgres` (`-m postgres` runs them, `-m "not postgres"`
    leaves them out)."""
    for item in items:
        if "postgres_url" in getattr(item, "fixturenames", ()) or "postgres_server" in getattr(
            item, "fixturenames", ()
        ):
            item.add_marker(pytest.mark.postgres)
