"""Out of scope stays out: how often the assistant answers questions the knowledge base does not cover.

Runs the real assistant (no generator: replies are extractive, as on a CPU) on a trained demo home, one fresh
session per question, over knowledge/demo/eval/out-of-scope.jsonl (labelled out of scope, halves a and b)
and the in-scope questions of retrieval-a.jsonl / retrieval-b.jsonl. Half a tuned assistant/scope.py; b is
held out. Prints per half and language: out-of-scope recall (share not answered from the knowledge base)
and in-scope answer rate (share answered by a template or retrieval).

    python benchmarks/out_of_scope.py --home /path/to/trained/demo/home
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "knowledge" / "demo" / "eval"
ANSWERED = ("template", "rag")


def questions() -> list[dict]:
    rows = []
    for half in "ab":
        for line in (EVAL / f"retrieval-{half}.jsonl").read_text(encoding="utf-8").splitlines():
            rows.append({**json.loads(line), "half": half, "oos": False})
    for line in (EVAL / "out-of-scope.jsonl").read_text(encoding="utf-8").splitlines():
        rows.append({**json.loads(line), "oos": True})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", required=True, help="a trained demo home (copied, never changed)")
    args = parser.parse_args()
    os.environ["LEPTON_GENERATOR__BACKEND"] = "none"
    sys.path.insert(0, str(ROOT))
    from assistant.config import load_settings
    from assistant.pipeline import Assistant

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        shutil.copytree(args.home, home, ignore=shutil.ignore_patterns("conversations.db*", "review.db*"))
        assistant = Assistant(load_settings(home=home, demo=True))
        assistant.warm_up()
        rows = questions()
        for r in rows:
            r["route"] = assistant.chat(r["question"]).route
    out: dict[str, dict] = {}
    for half in "ab":
        for lang in ("en", "zh", "all"):
            group = [r for r in rows if r["half"] == half and lang in ("all", r["language"])]
            oos = [r for r in group if r["oos"]]
            ins = [r for r in group if not r["oos"]]
            out[f"{half}-{lang}"] = {
                "oos_recall": round(sum(r["route"] not in ANSWERED for r in oos) / len(oos), 3),
                "oos": len(oos),
                "in_scope_answered": round(sum(r["route"] in ANSWERED for r in ins) / len(ins), 3),
                "in_scope": len(ins),
            }
    for r in rows:
        if r["oos"] == (r["route"] in ANSWERED):
            print(
                f"{'OOS answered' if r['oos'] else 'in-scope unanswered'} ({r['half']}, {r['route']}): "
                f"{r['question']}",
                file=sys.stderr,
            )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
