"""`lepton kb list | show | confirm | versions` show the twins' "needs update" marks and version summaries."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from knowledge import Template
from tests.knowledge.test_twins import two_languages
from ui.cli import app
from ui.cli.kb_cmd import _kb


def test_kb_cli_shows_and_confirms_needs_update(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LEPTON_GENERATOR__BACKEND", "none")
    docs = two_languages(tmp_path / "docs")
    home = ["--home", str(tmp_path / "home")]
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, [*args, *home])
        assert result.exit_code == code, (args, result.output)
        return result.stdout

    run("kb", "ingest", str(docs), "--actor", "erin")
    listed = json.loads(run("kb", "list", "--json"))
    by_uri = {
        d["uri"].replace("\\", "/").rsplit("/", 2)[-2] + "/" + Path(d["uri"]).name: d
        for d in listed["documents"]
    }
    en, zh, templates = by_uri["en/refunds.md"], by_uri["zh/refunds.md"], by_uri["docs/templates.yaml"]
    assert listed["needs_update"] == [] and "needs update" not in run("kb", "list")

    kb = _kb(tmp_path / "home")
    kb.edit_document(en["id"], "Refunds reach your card within 5 business days.", actor="erin")
    kb.upsert_template(
        Template("refund-en", "refund", "en", "Refunds", "Refunds reach your card within 5 business days."),
        "erin",
    )
    kb.close()

    out = run("kb", "list")
    zh_line = next(line for line in out.splitlines() if line.startswith(zh["id"]))
    en_line = next(line for line in out.splitlines() if line.startswith(en["id"]))
    assert "[needs update]" in zh_line and "needs update" not in en_line
    assert "templates that need update: refund-fr, refund-zh" in out
    shown = run("kb", "show", zh["id"])
    assert f"[needs update: {en['id']} (en) edited by erin" in shown and "5 business" in shown
    assert f"twin {en['id']} (en, Refunds): in step" in shown
    assert "refund-zh [refund/zh] [needs update: refund-en (en) edited by erin" in run(
        "kb", "show", templates["id"]
    )
    assert json.loads(run("kb", "show", zh["id"], "--json"))["needs_update"]["source"] == en["id"]

    assert "no longer needs update" in run("kb", "confirm", "refund-zh", "--actor", "erin")
    assert "no longer needs update" in run("kb", "confirm", zh["uri"], "--actor", "erin")
    run("kb", "confirm", "nope", code=2)
    out = run("kb", "list")
    assert "[needs update]" not in out and "templates that need update: refund-fr" in out

    run("kb", "publish", "--actor", "erin")
    latest = run("kb", "versions").splitlines()[0]
    assert latest.startswith("* v2") and "erin" in latest and "1 document, 1 template changed" in latest
