"""Rows as plain dicts: what callers hand on to JSON encoders and templates."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def plain_row(row: Mapping[Any, Any]) -> dict[str, Any]:
    """One row as a dict with plain `str` keys: SQLAlchemy names a table's columns with a `str` subclass
    (`quoted_name`), which strict encoders such as orjson (Gradio's JSON component) refuse as keys."""
    return {str(k): v for k, v in row.items()}


def plain_rows(rows: Iterable[Mapping[Any, Any]]) -> list[dict[str, Any]]:
    """`plain_row` of each row."""
    return [plain_row(r) for r in rows]
