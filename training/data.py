"""Loading intent CSV files and splitting them."""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from pathlib import Path

_LABEL_COLUMNS = ("intent", "category", "label")


def _csv_files(path: Path | list[Path]) -> list[Path]:
    paths = [Path(p) for p in path] if isinstance(path, list) else [Path(path)]
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.glob("*.csv")) if p.is_dir() else [p])
    return files


def _read_rows(file: Path, texts: list[str], labels: list[str]) -> None:
    with open(file, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        fields = {(f or "").strip().lower(): f for f in reader.fieldnames or []}
        label_col = next((fields[c] for c in _LABEL_COLUMNS if c in fields), None)
        if "text" not in fields or label_col is None:
            raise ValueError(f"{file}: needs a 'text' column and one of {', '.join(_LABEL_COLUMNS)}")
        for row in reader:
            text = (row.get(fields["text"]) or "").strip()
            label = (row.get(label_col) or "").strip()
            if text and label:
                texts.append(text)
                labels.append(label)


def load_intent_csv(path: Path | list[Path]) -> tuple[list[str], list[str]]:
    """Read (texts, labels) from CSV files with a `text` column and an intent/category/label column.

    A folder means every `*.csv` in it. Extra columns are ignored; blank rows are skipped.
    """
    texts: list[str] = []
    labels: list[str] = []
    files = _csv_files(path)
    for file in files:
        try:
            _read_rows(file, texts, labels)
        except UnicodeDecodeError:
            raise ValueError(f"{file}: not UTF-8 text (save the CSV as UTF-8)") from None
        except csv.Error as exc:
            raise ValueError(f"{file}: not a readable CSV ({exc})") from None
        except OSError as exc:
            raise ValueError(f"{file}: cannot be read ({exc.strerror or exc})") from None
    if not texts:
        names = ", ".join(str(f) for f in files) or str(path)
        raise ValueError(f"no labelled rows (a text and an intent) found in {names}")
    return texts, labels


def stratified_split(
    texts: list[str], labels: list[str], fraction: float, seed: int
) -> tuple[list[str], list[str], list[str], list[str]]:
    """Hold out about `fraction` of each label (at least one when the label has 2+ examples)."""
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        by_label[label].append(i)
    rng = random.Random(seed)
    val_idx: set[int] = set()
    for label in sorted(by_label):
        idx = by_label[label]
        rng.shuffle(idx)
        n_val = round(len(idx) * fraction) if len(idx) > 1 else 0
        n_val = max(n_val, 1) if len(idx) > 1 and fraction > 0 else n_val
        val_idx.update(idx[:n_val])
    tr = [i for i in range(len(texts)) if i not in val_idx]
    va = sorted(val_idx)
    return [texts[i] for i in tr], [labels[i] for i in tr], [texts[i] for i in va], [labels[i] for i in va]


def data_fingerprint(texts: list[str], labels: list[str]) -> str:
    """Order-independent sha256 of (text, label) pairs, for ModelRegistry.register."""
    import hashlib

    h = hashlib.sha256()
    for text, label in sorted(zip(texts, labels, strict=True)):
        h.update(text.encode("utf-8") + b"\x1f" + label.encode("utf-8") + b"\x1e")
    return h.hexdigest()[:16]


def cap_per_class(
    texts: list[str], labels: list[str], limit: int, seed: int = 0
) -> tuple[list[str], list[str]]:
    """Keep at most `limit` examples per label (random but reproducible), for quick estimates."""
    rng = random.Random(seed)
    idx = list(range(len(texts)))
    rng.shuffle(idx)
    seen: dict[str, int] = defaultdict(int)
    keep = []
    for i in idx:
        if seen[labels[i]] < limit:
            seen[labels[i]] += 1
            keep.append(i)
    keep.sort()
    return [texts[i] for i in keep], [labels[i] for i in keep]
