"""`lepton kb ...` curation commands, in-process (typer's CliRunner) on a fresh home."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ui.cli import app


def test_kb_cli_draft_publish_rollback(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LEPTON_GENERATOR__BACKEND", "none")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lamps.md").write_text("# Lamps\n\nThe lighthouse lamp ships with a universal power adapter.\n")
    (docs / "kettles.md").write_text(
        "# Kettles\n\nOur electric kettles boil a litre of water in three minutes.\n"
    )
    home = ["--home", str(tmp_path / "home")]
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, [*args, *home])
        assert result.exit_code == 0, (args, result.output)
        return result.stdout

    def search(q: str) -> list[dict]:
        return json.loads(run("kb", "search", q, "--k", "3", "--json"))

    run("kb", "ingest", str(docs), "--draft", "--actor", "erin")
    assert search("lighthouse lamp adapter") == []
    listed = json.loads(run("kb", "list", "--json"))["documents"]
    assert {d["change"] for d in listed} == {"added"} and len(listed) == 2
    assert "version 1 is live" in run("kb", "publish", "--note", "first", "--actor", "erin")
    assert search("lighthouse lamp adapter")[0]["uri"].endswith("lamps.md")
    assert runner.invoke(app, ["kb", "publish", *home]).exit_code == 1  # nothing to publish

    lamp = next(d for d in listed if d["uri"].endswith("lamps.md"))
    assert "universal power adapter" in run("kb", "show", lamp["id"])
    assert "deleted document" in run("kb", "delete", lamp["uri"])
    assert runner.invoke(app, ["kb", "delete", "nope", *home]).exit_code == 2
    assert search("lighthouse lamp adapter")  # still live until published
    run("kb", "publish")
    assert not any(h["uri"].endswith("lamps.md") for h in search("lighthouse lamp adapter"))

    versions = json.loads(run("kb", "versions", "--json"))
    assert [(v["version"], v["live"]) for v in versions] == [(2, True), (1, False)]
    assert "version 1 is live" in run("kb", "rollback", "1")
    assert search("lighthouse lamp adapter")[0]["uri"].endswith("lamps.md")
    assert runner.invoke(app, ["kb", "rollback", "42", *home]).exit_code == 2
    assert "reindexed 2 units" in run("kb", "reindex")
    assert search("kettle boil water")[0]["uri"].endswith("kettles.md")
    audit = json.loads(run("kb", "audit", "--json", "--limit", "100"))
    assert {("erin", "publish"), ("erin", "ingest")} <= {(e["actor"], e["action"]) for e in audit}
    assert {"delete", "rollback", "reindex"} <= {e["action"] for e in audit}
    assert "v1" in run("kb", "versions") and "rollback" in run("kb", "audit")
    assert json.loads(run("kb", "stats"))["version"] == 1
