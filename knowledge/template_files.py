"""Loading answer templates from templates*.csv / .json / .yaml files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import yaml

from knowledge.readers import ReadError, decode_text, load_yaml
from knowledge.types import Template

FIELDS = ("id", "intent", "language", "title", "answer")


def _rows(text: str, suffix: str) -> list:
    if suffix == ".csv":
        return list(csv.DictReader(io.StringIO(text)))
    try:
        data = json.loads(text) if suffix == ".json" else load_yaml(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ReadError(f"malformed {suffix[1:].upper()}: {exc}") from exc
    if isinstance(data, dict):
        data = data.get("templates", data.get("items"))
    if not isinstance(data, list):
        raise ReadError("expected a list of templates (or a mapping with a 'templates' list)")
    return data


def read_templates(data: bytes, path: Path) -> tuple[list[Template], list[str]]:
    """Parse templates; returns (valid templates, per-row problems). Raises `ReadError` if unusable."""
    if not data.strip():
        raise ReadError("empty file")
    rows = _rows(decode_text(data), path.suffix.lower())
    templates: list[Template] = []
    problems: list[str] = []
    seen: set[str] = set()
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            problems.append(f"entry {i}: expected a mapping with fields {', '.join(FIELDS)}")
            continue
        values = {f: str(row.get(f) if row.get(f) is not None else "").strip() for f in FIELDS}
        missing = [f for f in FIELDS if not values[f]]
        if missing:
            problems.append(f"entry {i}: missing field(s) {', '.join(missing)}")
            continue
        if values["id"] in seen:
            problems.append(f"entry {i}: duplicate id {values['id']!r}")
            continue
        seen.add(values["id"])
        values["language"] = values["language"].lower()
        templates.append(Template(**values))
    if not templates:
        raise ReadError("no valid templates" + (f" ({problems[0]})" if problems else ""))
    return templates, problems
