"""Answer generation: local or remote LLMs, grounded prompts, a grounding guard and an extractive fallback."""

from __future__ import annotations

from assistant.generation import _env  # noqa: F401  (offline defaults before transformers loads)
from assistant.generation.base import Generator
from assistant.generation.errors import GenerationError
from assistant.generation.extractive import extractive_answer
from assistant.generation.grounding import GroundingGuard, GroundingVerdict
from assistant.generation.local import LocalGenerator
from assistant.generation.openai_client import OpenAIGenerator
from training.bundled_generator import bundled_generator_path
from training.generator_prompt import Passage, build_messages

__all__ = [
    "Generator",
    "GenerationError",
    "GroundingGuard",
    "GroundingVerdict",
    "LocalGenerator",
    "OpenAIGenerator",
    "Passage",
    "bundled_generator_path",
    "build_messages",
    "extractive_answer",
]
