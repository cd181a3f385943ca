"""The home's two model registries, where the settings put them: the versions in `artifact_dir` (or
HOME/models), the pointer in the database when `database_url` is set (else current.json beside them).

Everything that reads or changes which model serves comes here (the serving path, the model watch, retrains,
promote and rollback from the API, the console and the CLI), so all of them agree on one machine or many.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.config import Settings
    from training.registry import ModelRegistry

INTENTS = "intents"
GENERATOR = "generator"


def intent_registry(settings: Settings) -> ModelRegistry:
    """The intent models' registry."""
    from training.registry import ModelRegistry

    return ModelRegistry(settings.intents_dir, database_url=settings.database_url, kind=INTENTS)


def adapter_registry(settings: Settings) -> ModelRegistry:
    """The generator's LoRA adapters' registry."""
    from training.registry import ModelRegistry

    return ModelRegistry(settings.generator_dir, database_url=settings.database_url, kind=GENERATOR)


def unshared_models_warning(settings: Settings) -> str | None:
    """A warning when replicas would disagree: the pointer is shared (database_url) but the versions are
    each replica's own (no artifact_dir), so a version named by another replica is missing here or, worse,
    a different model of the same number. None when one machine or a shared folder."""
    if settings.database_url is None or settings.artifact_dir is not None:
        return None
    return (
        "database_url is set but artifact_dir is not: model versions stay in this home "
        f"({settings.models_dir}), so with more than one replica set artifact_dir (LEPTON_ARTIFACT_DIR) to a "
        "folder every replica mounts, or a model promoted on one replica is not loaded by the others"
    )
