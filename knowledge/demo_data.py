"""Location of the bundled demo knowledge."""

from __future__ import annotations

from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent / "demo"


def demo_paths() -> list[Path]:
    """What to ingest for the bundled demo: the articles folder and the templates*.yaml files."""
    paths: list[Path] = []
    articles = DEMO_DIR / "articles"
    if articles.is_dir():
        paths.append(articles)
    paths.extend(sorted(p for p in DEMO_DIR.glob("templates*.y*ml") if p.is_file()))
    return paths
