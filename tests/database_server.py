"""A real PostgreSQL server for the tests: Debian's `postgresql` binaries (initdb + pg_ctl) on a data folder in
/tmp, started once per test session on a free port; each test gets a fresh database.

Missing binaries fail the tests that need them (CI installs the package: .ci/run), never skip them.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

OPTIONS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off "
    "-c max_connections=200 -c shared_buffers=32MB"
)  # a throwaway cluster: durability off, speed on


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, else the newest /usr/lib/postgresql/*/bin."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    found = [
        p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb") if (p.parent / "pg_ctl").exists()
    ]
    found.sort(key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0))
    return found[-1] if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One throwaway cluster: `start()`, `create_database()` per test, `stop()` at the end."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(
            tempfile.mkdtemp(prefix="lepton-pg-")
        )  # not under pytest's 0700 tmp: postgres reads it
        self.data, self.sockets, self.log = (
            self.root / "data",
            self.root / "sockets",
            self.root / "server.log",
        )
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: run the server as the package's `postgres` account
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.seconds_to_start = 0.0

    def _run(self, *args: str) -> None:
        run = subprocess.run(
            [*self.as_user, *args], capture_output=True, text=True, timeout=120, cwd=self.root
        )
        if run.returncode:
            raise RuntimeError(f"{args[0]} failed ({run.returncode}): {run.stderr[-2000:]}{self._log_tail()}")

    def _log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""

    def start(self) -> PostgresServer:
        started = time.perf_counter()
        self.sockets.mkdir()
        if self.as_user:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.sockets, "postgres", "postgres")
        # UTF-8 with a C.UTF-8 ctype: Chinese text is text (letters for pg_trgm), sorting stays bytewise.
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--lc-ctype=C.UTF-8",
            "--no-sync",
            "--no-instructions",
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {self.port} -k {self.sockets} {OPTIONS}",
            "start",
        )
        self.seconds_to_start = time.perf_counter() - started
        return self

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        auth = f"postgres:{password}" if password else "postgres"
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self, name: str) -> str:
        self.admin(f'CREATE DATABASE "{name}" TEMPLATE template0')  # ~0.06 s; template1's WAL copy ~0.2 s
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def start_server() -> PostgresServer:
    """A started server, or a test failure saying how to install PostgreSQL."""
    bindir = find_bindir()
    if bindir is None:
        pytest.fail(
            "PostgreSQL's server binaries (initdb, pg_ctl) are not installed: apt-get install postgresql "
            "(.ci/run does it)"
        )
    return PostgresServer(bindir).start()
