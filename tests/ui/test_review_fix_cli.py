"""`lepton review fix`: the right answer written from the command line is a draft template of the intent, and
the question joins the training data; refusals exit 2 with a message."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from assistant.config import load_settings
from knowledge.store import Store
from training.review import ReviewQueue
from ui.cli import app


def test_review_fix_writes_a_draft_template(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "home", demo=False)
    settings.home.mkdir(parents=True)
    queue = ReviewQueue(settings.home / "review.db")
    queue.add("t1", "Do you gift wrap?", "unanswered", language="en", predicted="out_of_scope")
    (item,) = [i["id"] for i in queue.items()]
    home = ["--home", str(settings.home)]
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, ["review", "fix", *args, *home])
        assert result.exit_code == code, (args, result.output)
        return " ".join(result.output.split())

    answer = "Yes: gift wrapping is $5 per order."
    assert "Did you mean" in run(str(item), "--answer", answer, "--intent", "out_of_scop", code=2)
    assert "no review item #99" in run("99", "--answer", answer, "--intent", "x", "--new", code=2)
    said = run(str(item), "--answer", answer, "--intent", "gift_wrap", "--new", "--actor", "dana")
    assert "draft template tpl-gift-wrap-en (English) for the new topic gift_wrap" in said
    assert "`lepton kb publish` makes it live" in said
    assert queue.get(item)["label"] == "gift_wrap" and queue.get(item)["reviewer"] == "dana"
    drafts = Store(settings.kb_dir / "kb.db").templates(draft=True)
    assert [(t.id, t.intent, t.title, t.answer) for t in drafts] == [
        ("tpl-gift-wrap-en", "gift_wrap", "Do you gift wrap?", answer)
    ]
    assert Store(settings.kb_dir / "kb.db").templates() == []  # not live before `lepton kb publish`
