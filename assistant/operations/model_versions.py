"""Intent model and generator adapter versions: list, read, promote, roll back; the live assistant reloads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assistant.model_registries import adapter_registry, intent_registry
from assistant.operations.operation_errors import Conflict, NotFound
from training import ModelRegistry
from training.registry import VERSION

if TYPE_CHECKING:
    from assistant.pipeline import Assistant


class ModelVersions:
    """The two model registries of the assistant's home; every change is followed by a reload, so what
    `serving` reports is what answers."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.settings = assistant.settings

    def intent_registry(self) -> ModelRegistry:
        return intent_registry(self.settings)

    def adapter_registry(self) -> ModelRegistry:
        return adapter_registry(self.settings)

    # -- intent models -------------------------------------------------------------------------------
    def intent_models(self) -> dict[str, Any]:
        """{current, serving, versions}: the registry's current version and the one answering now."""
        registry = self.intent_registry()
        current = registry.current()
        return {
            "current": current[0] if current else None,
            "serving": self.assistant.intent_version,
            "versions": registry.list(),
        }

    def intent_metadata(self, version: str) -> dict[str, Any]:
        """One version's registry record (metrics, config); NotFound for an unknown version."""
        if not VERSION.fullmatch(version or ""):
            raise NotFound(f"unknown version {version}")
        try:
            return self.intent_registry().metadata(version)
        except FileNotFoundError:
            raise NotFound(f"unknown version {version}") from None

    def promote_intent(self, version: str) -> str | None:
        """Make `version` current and load it; returns the version serving. NotFound for an unknown one."""
        _promote_in(self.intent_registry(), version)
        return self.assistant.reload_intents()

    def rollback_intent(self) -> tuple[str, str | None]:
        """Back to the previously current model: (that version, the version serving). Conflict if none."""
        version = _roll_back(self.intent_registry())
        return version, self.assistant.reload_intents()

    # -- generator adapters --------------------------------------------------------------------------
    def adapters(self) -> dict[str, Any]:
        """{current, serving, adapter_setting, versions} of the generator's LoRA adapters."""
        registry = self.adapter_registry()
        current = registry.current()
        return {
            "current": current[0] if current else None,
            "serving": self.assistant.generator_adapter,
            "adapter_setting": self.settings.generator.adapter,
            "versions": registry.list(),
        }

    def promote_adapter(self, version: str) -> str | None:
        """Make adapter `version` current and swap it in (loaded aside first); returns the adapter serving."""
        _promote_in(self.adapter_registry(), version)
        self.assistant.reload_generator()
        return self.assistant.generator_adapter

    def rollback_adapter(self) -> str:
        """Back to the previously current adapter (returned); Conflict if there is none."""
        version = _roll_back(self.adapter_registry())
        self.assistant.reload_generator()
        return version


def _promote_in(registry: ModelRegistry, version: str) -> None:
    # A name, not a path: checked before the registry sees it.
    if not VERSION.fullmatch(version or ""):
        raise NotFound(f"unknown version {version}")
    try:
        registry.promote(version)
    except KeyError:
        raise NotFound(f"unknown version {version}") from None


def _roll_back(registry: ModelRegistry) -> str:
    version = registry.rollback()
    if version is None:
        raise Conflict("Nothing to roll back to.")
    return version
