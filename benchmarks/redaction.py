"""Personal-data redaction speed: customer messages, reply-sized paragraphs, and the longest allowed message.

Every logged turn redacts its message and its reply, and every training row is redacted once. Messages are the
demo intents' training texts; replies are the demo articles' paragraphs; the worst case is a 4,000-character
message (the default `max_message_chars`) made of digits and separators, which keeps the phone matcher busiest.

    python benchmarks/redaction.py [--runs 3]
"""

from __future__ import annotations

import csv
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import base_args, emit, log, machine  # noqa: E402


def per_text_us(texts: list[str], runs: int) -> float:
    from knowledge.redaction import redact

    medians = []
    for _ in range(runs):
        start = time.perf_counter()
        for text in texts:
            redact(text)
        medians.append((time.perf_counter() - start) / len(texts) * 1e6)
    return round(statistics.median(medians), 1)


def main() -> None:
    args = base_args(__doc__.splitlines()[0]).parse_args()
    from knowledge.demo_data import DEMO_DIR

    messages = [
        row["text"]
        for f in sorted((DEMO_DIR / "intents").glob("*.csv"))
        for row in csv.DictReader(f.open(encoding="utf-8"))
    ]
    paragraphs = [
        p
        for f in sorted((DEMO_DIR / "articles").rglob("*.md"))
        for p in f.read_text().split("\n\n")
        if len(p) > 80
    ]
    worst = ("415 555 0199 - 12 34 " * 200)[:4000]
    log(f"{len(messages)} messages, {len(paragraphs)} paragraphs")
    emit(
        {
            "machine": machine(),
            "message_us": per_text_us(messages, args.runs),
            "paragraph_us": per_text_us(paragraphs, args.runs),
            "paragraph_chars_median": statistics.median(len(p) for p in paragraphs),
            "worst_4000_chars_ms": round(per_text_us([worst], args.runs) / 1000, 1),
            "runs": args.runs,
        }
    )


if __name__ == "__main__":
    main()
