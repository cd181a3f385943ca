"""The unit of knowledge handed to the generator and the grounding guard."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Passage:
    """A retrieved chunk of a knowledge-base article."""

    id: str
    title: str
    text: str
    language: str
    uri: str = ""
