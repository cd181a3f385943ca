"""One component factory for the server and the CLI: a remote embedding server configured in the settings
is what `lepton kb …` uses too (it used to build a local MiniLM, or fail on `embedder = "openai"`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.components import build_embedder, build_knowledge_base
from assistant.config import Settings
from tests.conftest import cli

KEY = "sk-embed-test"


@pytest.fixture(scope="module")
def embedding_server() -> Iterator[tuple[str, list[dict]]]:
    """A real OpenAI-compatible `/v1/embeddings` server backed by the bundled MiniLM (as vLLM or Ollama
    would serve one); it records each request's model, inputs and bearer token."""
    from knowledge import make_embedder

    model = make_embedder("minilm")
    model.warm_up()
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
            vectors = model.embed_passages(list(body["input"]))
            data = [{"index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)]
            out = json.dumps({"data": data, "model": body.get("model")}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    server.shutdown()


def _remote(url: str) -> dict[str, str]:
    return {
        "LEPTON_RETRIEVAL__EMBEDDER": "openai",
        "LEPTON_RETRIEVAL__EMBEDDER_URL": url,
        "LEPTON_RETRIEVAL__EMBEDDER_API_KEY": KEY,
        "LEPTON_RETRIEVAL__EMBEDDER_MODEL": "minilm-remote",
    }


def test_the_factory_builds_what_the_settings_name(tmp_path: Path) -> None:
    remote = Settings(
        home=tmp_path,
        retrieval={"embedder": "openai", "embedder_url": "http://emb:8000/v1", "embedder_model": "m"},
    )
    embedder = build_embedder(remote)
    assert embedder.name == "openai-m" and embedder.base_url == "http://emb:8000/v1"  # type: ignore[attr-defined]
    kb = build_knowledge_base(remote)
    assert kb.embedder.name == "openai-m"
    with pytest.raises(ValueError, match="base_url"):
        build_embedder(Settings(home=tmp_path, retrieval={"embedder": "openai"}))


@pytest.mark.slow
def test_the_cli_uses_the_remote_embedder_the_server_would(
    embedding_server: tuple[str, list[dict]], tmp_path: Path
) -> None:
    url, seen = embedding_server
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "hours.md").write_text(
        "---\ntitle: Opening hours\nlanguage: en\n---\nThe bakery opens at 7 am and closes at 6 pm, every day.\n",
        encoding="utf-8",
    )
    (docs / "cakes.md").write_text(
        "---\ntitle: Birthday cakes\nlanguage: en\n---\nOrder a birthday cake two days ahead; we write any name.\n",
        encoding="utf-8",
    )
    home = tmp_path / "home"
    env = _remote(url)
    ingest = cli("kb", "ingest", str(docs), home=home, env=env)
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr
    found = cli("kb", "search", "when do you open in the morning?", "--json", home=home, env=env)
    assert found.returncode == 0, found.stdout + found.stderr
    hits = json.loads(found.stdout)
    assert hits and hits[0]["title"] == "Opening hours"
    # Both commands embedded through the configured server, with its key and model.
    texts = [t for r in seen for t in r["input"]]
    assert any("bakery opens" in t for t in texts) and any("open in the morning" in t for t in texts)
    assert all(r["auth"] == f"Bearer {KEY}" and r["model"] == "minilm-remote" for r in seen)
    assert {r["path"] for r in seen} == {"/v1/embeddings"}
