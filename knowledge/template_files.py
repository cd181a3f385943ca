"""Loading answer templates (and the slots they use, see knowledge/slots.py) from templates*.csv / .json / .yaml files."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path

import yaml

from knowledge.readers import ReadError, decode_text, load_yaml
from knowledge.slots import Slot, SlotError, check_template, parse_slots
from knowledge.types import Template

FIELDS = ("id", "intent", "language", "title", "answer")


def _rows(text: str, suffix: str) -> tuple[list, dict[str, Slot]]:
    """The template rows and the `slots:` a file declares (CSV files declare none)."""
    if suffix == ".csv":
        return list(csv.DictReader(io.StringIO(text))), {}
    try:
        data = json.loads(text) if suffix == ".json" else load_yaml(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ReadError(f"malformed {suffix[1:].upper()}: {exc}") from exc
    slots: dict[str, Slot] = {}
    if isinstance(data, dict):
        try:
            slots = parse_slots(data.get("slots"))
        except SlotError as exc:
            raise ReadError(str(exc)) from None
        # A file may only declare slots (for templates in other files).
        data = data.get("templates", data.get("items", [] if slots else None))
    if not isinstance(data, list):
        raise ReadError("expected a list of templates (or a mapping with a 'templates' list)")
    return data, slots


def read_templates(data: bytes, path: Path) -> tuple[list[Template], list[str]]:
    """Parse templates; returns (valid templates, per-row problems). Raises `ReadError` if unusable."""
    templates, _, problems = read_template_file(data, path)
    return templates, problems


def read_template_file(
    data: bytes, path: Path, declared: Iterable[str] = ()
) -> tuple[list[Template], dict[str, Slot], list[str]]:
    """Parse templates and slots; returns (valid templates, declared slots, per-row problems).

    A template whose answer uses a slot that neither this file nor `declared` (slots other files of the
    knowledge base declare) declares is a problem, not a template. Raises `ReadError` if unusable.
    """
    if not data.strip():
        raise ReadError("empty file")
    rows, slots = _rows(decode_text(data), path.suffix.lower())
    known = set(declared) | set(slots)
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
        try:
            check_template(values["answer"], known)
        except SlotError as exc:
            problems.append(f"entry {i} ({values['id']}): {exc}")
            continue
        seen.add(values["id"])
        values["language"] = values["language"].lower()
        templates.append(Template(**values))
    if not templates and not (slots and not rows):
        raise ReadError("no valid templates" + (f" ({problems[0]})" if problems else ""))
    return templates, slots, problems
