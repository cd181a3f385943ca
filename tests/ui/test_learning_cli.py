"""`lepton review label` and `lepton models`: known intents, `--new`, clear refusals (typer's CliRunner)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from assistant.config import load_settings
from training import ModelRegistry
from training.review import ReviewQueue
from ui.cli import app


def test_review_label_refuses_unknown_intents_unless_new(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "home")
    data = settings.intents_dir / "data"
    data.mkdir(parents=True)
    (data / "intents.csv").write_text("text,intent\nwhere is my parcel,order_status\nhi,greeting\n")
    queue = ReviewQueue(settings.home / "review.db")
    for turn in ("a", "b"):
        queue.add(turn, f"where has my parcel gone {turn}", "low_confidence", predicted="greeting")
    first, second = sorted(i["id"] for i in queue.items())
    home = ["--home", str(settings.home)]
    runner = CliRunner()

    typo = runner.invoke(app, ["review", "label", str(first), "order_stauts", *home])
    assert typo.exit_code == 2 and "Did you mean order_status?" in " ".join(typo.output.split())
    assert queue.get(first)["status"] == "pending"
    ok = runner.invoke(app, ["review", "label", str(first), "order_status", *home])
    assert ok.exit_code == 0 and "corrected as order_status" in ok.output
    assert runner.invoke(app, ["review", "label", str(second), "parcel_tracking", *home]).exit_code == 2
    new = runner.invoke(app, ["review", "label", str(second), "parcel_tracking", "--new", *home])
    assert new.exit_code == 0, new.output
    assert queue.training_examples()[1] == ["order_status", "parcel_tracking"]
    missing = runner.invoke(app, ["review", "label", "999", "order_status", *home])
    assert missing.exit_code == 2 and "no review item #999" in missing.output


def test_models_list_promote_rollback(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "home")
    registry = ModelRegistry(settings.intents_dir)
    for n, (f1, acc) in enumerate([(0.9102, 0.9033), (0.9379, 0.9368)]):
        folder = tmp_path / f"model-{n}"
        folder.mkdir()
        (folder / "labels.json").write_text('["greeting"]')
        held = {"macro_f1": f1, "accuracy": acc, "heldout_size": 269}
        registry.register(folder, metrics={"heldout": held}, data_fingerprint=str(n), config={})
    home = ["--home", str(settings.home)]
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, [*args, *home])
        assert result.exit_code == code, (args, result.output)
        return " ".join(result.output.split())

    assert "nothing to roll back to" in run("models", "rollback", code=2)
    assert run("models", "promote", "v0001") == "v0001 is current"
    assert run("models", "promote", "v0002") == "v0002 is current"
    listed = run("models", "list")
    assert "* v0002" in listed and "held-out macro-F1 93.79 %, accuracy 93.68 % (269 rows)" in listed
    for bad in ("v0009", "v0001/../v0002"):
        assert f"no such version: {bad!r}" in run("models", "promote", bad, code=2)
    assert run("models", "rollback") == "v0001 is current"
    assert registry.current()[0] == "v0001"  # type: ignore[index]


def test_review_same_text_answers_every_copy(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "home")
    queue = ReviewQueue(settings.home / "review.db")
    for n, text in enumerate(["Do you sell gnomes?", "do you sell gnomes?", "Do you sell gnomes?", "hi"]):
        queue.add(f"t{n}", text, "unanswered", predicted="out_of_scope")
    home = ["--home", str(settings.home)]
    runner = CliRunner()
    listed = runner.invoke(app, ["review", "list", *home]).output
    assert listed.count("×3") == 3 and "×" not in next(
        line for line in listed.splitlines() if line.endswith("hi")
    )
    first = min(i["id"] for i in queue.items())
    done = runner.invoke(app, ["review", "label", str(first), "out_of_scope", "--same-text", *home])
    assert done.exit_code == 0 and "(and 2 more pending items with the same text)" in done.output
    assert [i["text"] for i in queue.items()] == ["hi"]
    last = queue.items()[0]["id"]
    gone = runner.invoke(app, ["review", "discard", str(last), "--same-text", *home])
    assert gone.exit_code == 0 and gone.output.strip() == f"#{last} discarded"
    assert queue.counts() == {"confirmed": 3, "discarded": 1}


def test_a_mistyped_home_is_refused_not_created(tmp_path: Path) -> None:
    typo = tmp_path / "hmoe"
    runner = CliRunner()
    for args in (
        ["review", "list"],
        ["review", "label", "1", "order_status"],
        ["review", "discard", "1"],
        ["models", "list"],
        ["models", "list", "--generator"],
        ["models", "rollback"],
        ["models", "promote", "v0001", "--generator"],
    ):
        result = runner.invoke(app, [*args, "--home", str(typo)])
        assert result.exit_code == 2 and "no Lepton home at" in result.output, (args, result.output)
    assert not typo.exists()
    empty = tmp_path / "home"
    empty.mkdir()
    listed = runner.invoke(app, ["models", "list", "--generator", "--home", str(empty)])
    assert listed.exit_code == 0 and "no versions yet (lepton train generator makes one)" in listed.output
