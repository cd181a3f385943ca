"""Dependencies failing under a running server: a remote Chroma that stops (and comes back), and an
OpenAI-compatible generator that is slow or down.

vLLM cannot run on this machine, so the generator is a small OpenAI-compatible stand-in started by the test on
127.0.0.1 (the same HTTP contract: POST /v1/chat/completions, plain and streamed).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

# Retrieval questions (no confident template; their words occur in the demo articles, so lexical retrieval
# alone finds them too). The first one the model in use routes to retrieval is used.
RAG_CANDIDATES = [
    "how does delivery work for a sofa? will the guys bring it inside and set it up for me?",
    "Who pays return shipping for a sofa?",
    "Can I use two gift cards on one order?",
    "How long do refunds take?",
    "Can I pay with PayPal or Klarna?",
]


# With Chroma down only words match, and the out-of-scope check then answers only questions whose words the
# article covers: these do.
WORDY_CANDIDATES = ["Can I use two gift cards on one order?", "How long do refunds take?", *RAG_CANDIDATES]


def _rag_question(url: str, candidates: list[str] = RAG_CANDIDATES) -> tuple[str, dict]:
    for question in candidates:
        _, reply = _chat(url, question)
        if reply["route"] == "rag" and reply["sources"]:
            return question, reply
    pytest.fail("none of the retrieval questions is answered from retrieval by this model")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chat(url: str, message: str, **extra) -> tuple[float, dict]:
    t = time.perf_counter()
    r = httpx.post(f"{url}/v1/chat", json={"message": message, **extra}, timeout=120)
    assert r.status_code == 200, r.text
    return time.perf_counter() - t, r.json()


class Chroma:
    """`chroma run --path DIR --port P` (the CLI in the virtual environment)."""

    def __init__(self, path: Path, port: int, log: Path) -> None:
        self.path, self.port, self.log = path, port, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> Chroma:
        exe = Path(sys.executable).with_name("chroma")
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(
                [str(exe), "run", "--path", str(self.path), "--port", str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            assert self.proc.poll() is None, self.log.read_text()[-2000:]
            assert time.time() < deadline, "chroma did not start"
            time.sleep(0.3)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def test_chroma_server_down_falls_back_to_lexical_and_recovers(launch, tmp_path: Path) -> None:
    chroma = Chroma(tmp_path / "chroma-data", _free_port(), tmp_path / "chroma.log").start()
    try:
        server = launch({"LEPTON_CHROMA_URL": f"http://127.0.0.1:{chroma.port}"}, name="chroma-client")
        question, first = _rag_question(server.url, WORDY_CANDIDATES)
        warnings_before = server.log().count("vector search failed")

        chroma.stop()
        _, down = _chat(server.url, question)
        assert down["route"] == "rag" and down["sources"], down
        assert {s["uri"] for s in down["sources"]} & {s["uri"] for s in first["sources"]}
        _, template = _chat(server.url, "how do I reset my password")
        assert template["route"] == "template"
        time.sleep(0.5)
        assert server.log().count("vector search failed") > warnings_before, "no warning in the server log"
        assert server.healthy()

        chroma.start()
        warnings_down = server.log().count("vector search failed")
        _, back = _chat(server.url, question)
        assert back["route"] == "rag" and back["sources"]
        time.sleep(0.5)
        assert server.log().count("vector search failed") == warnings_down, (
            "dense retrieval did not come back"
        )
    finally:
        chroma.stop()


def test_chroma_server_down_at_start_serves_lexically_then_syncs(launch, tmp_path: Path) -> None:
    chroma = Chroma(tmp_path / "chroma-data", _free_port(), tmp_path / "chroma.log")  # not started
    try:
        server = launch({"LEPTON_CHROMA_URL": f"http://127.0.0.1:{chroma.port}"}, name="chroma-late")
        assert server.healthy()  # the assistant came up although its vector store is unreachable
        question, down = _rag_question(server.url)
        assert down["route"] == "rag" and down["sources"], down
        assert "lexical retrieval until it is back" in server.log()

        chroma.start()  # an empty server: the next sync fills it from SQLite
        time.sleep(11)  # past the knowledge base's sync retry interval (10 s)
        _chat(server.url, question)  # this query runs the sync
        warnings = server.log().count("vector search failed")
        _, back = _chat(server.url, question)
        assert back["route"] == "rag" and back["sources"]
        time.sleep(0.5)
        assert server.log().count("vector search failed") == warnings, "dense retrieval did not come back"
    finally:
        chroma.stop()


class StandIn:
    """An OpenAI-compatible chat server: mode "ok" answers at once, "slow" waits `delay` seconds first."""

    def __init__(self, answer: str) -> None:
        self.mode, self.delay, self.answer, self.requests = "ok", 30.0, answer, 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                outer.requests += 1
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                if outer.mode == "slow":
                    time.sleep(outer.delay)
                if body.get("stream"):
                    self.send_response(200)
                    self.send_header("content-type", "text/event-stream")
                    self.end_headers()
                    for word in outer.answer.split(" "):
                        chunk = {"choices": [{"index": 0, "delta": {"content": word + " "}}]}
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.write(b"data: [DONE]\n\n")
                    return
                data = json.dumps(
                    {"choices": [{"index": 0, "message": {"role": "assistant", "content": outer.answer}}]}
                ).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def down(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_slow_or_down_generator_gives_extractive_answers_in_time(launch) -> None:
    stand_in = StandIn("We accept PayPal and Klarna at checkout.")
    timeout_s = 3.0
    server = launch(
        {
            "LEPTON_GENERATOR__BACKEND": "openai",
            "LEPTON_GENERATOR__BASE_URL": f"http://127.0.0.1:{stand_in.port}/v1",
            "LEPTON_GENERATOR__TIMEOUT_S": str(timeout_s),
        },
        name="generator-client",
    )
    try:
        question, _ = _rag_question(server.url)
        assert stand_in.requests >= 1

        stand_in.mode = "slow"
        for stream in (False, True):
            t = time.perf_counter()
            if stream:
                with httpx.stream(
                    "POST",
                    f"{server.url}/v1/chat",
                    json={"message": question, "stream": True},
                    timeout=120,
                ) as r:
                    assert r.status_code == 200
                    lines = [line for line in r.iter_lines() if line.startswith(("event:", "data:"))]
                assert lines[-2] == "event: final", lines[-4:]
                reply = json.loads(lines[-1].split(":", 1)[1])
            else:
                _, reply = _chat(server.url, question)
            seconds = time.perf_counter() - t
            assert reply["route"] == "rag" and reply["reply"] and reply["sources"], reply
            assert seconds < timeout_s + 10, (
                f"slow generator: the reply took {seconds:.1f} s (stream={stream})"
            )

        stand_in.down()
        t = time.perf_counter()
        _, reply = _chat(server.url, question)
        seconds = time.perf_counter() - t
        assert reply["route"] == "rag" and reply["reply"] and reply["sources"], reply
        assert seconds < timeout_s + 10, f"generator down: the reply took {seconds:.1f} s"
        assert server.healthy()
    finally:
        stand_in.mode = "ok"
