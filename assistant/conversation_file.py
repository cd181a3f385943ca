"""The conversation-test file format: conversations of turns with what each reply must satisfy, read and
validated strictly (docs/conversation-tests.md). The evaluator that plays them is `assistant.conversation_eval`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assistant.schema import Route
from knowledge.readers import load_yaml

ROUTES: tuple[str, ...] = get_args(Route)
ANSWERED_FROM_KB = frozenset({"template", "rag"})
NOT_ANSWERED = frozenset({"fallback", "handoff", "clarify", "smalltalk"})
OOS_TAGS = frozenset({"oos", "injection"})
KB_TAG = "kb"
HANDOFF_TAG = "handoff-request"
ANY_LANGUAGE = "any"

_NAME = re.compile(r"^[A-Za-z0-9_.:/-]+$")


class ConversationFileError(ValueError):
    """A conversation file that cannot be read or does not follow the format."""


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class Expect(BaseModel):
    """What one turn's reply must satisfy; every field is optional and unset fields are not checked."""

    model_config = ConfigDict(extra="forbid")

    route: list[Route] | None = Field(default=None, min_length=1)
    intent: list[str] | None = Field(default=None, min_length=1)
    sources: list[str] | None = Field(default=None, min_length=1)
    not_sources: bool = False
    language: str | None = None
    contains: list[str | list[str]] = Field(default_factory=list)
    not_contains: list[str] = Field(default_factory=list)

    @field_validator("route", "intent", "sources", "not_contains", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _as_list(value)

    @field_validator("contains", mode="before")
    @classmethod
    def _contains_one_or_many(cls, value: Any) -> Any:
        return _as_list(value)

    @field_validator("sources", "intent")
    @classmethod
    def _names(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        cleaned = [v.strip() for v in value]
        bad = [v for v in cleaned if not v or not _NAME.match(v)]
        if bad:
            raise ValueError(f"not a slug, template id or intent name: {bad[0]!r}")
        return cleaned

    @field_validator("contains")
    @classmethod
    def _non_empty_needles(cls, value: list[str | list[str]]) -> list[str | list[str]]:
        for item in value:
            alternatives = [item] if isinstance(item, str) else item
            if not alternatives or any(not a.strip() for a in alternatives):
                raise ValueError("contains entries must be non-empty strings or non-empty lists of them")
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-z]{2,3}|any", value):
            raise ValueError(f"language must be a code such as 'en' or 'zh', or 'any'; got {value!r}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Expect:
        if self.not_sources and self.sources:
            raise ValueError("a turn cannot expect both sources and not_sources")
        if self.not_sources and self.route and set(self.route) & ANSWERED_FROM_KB:
            raise ValueError("not_sources: true contradicts an expected route of template or rag")
        return self


class TurnSpec(BaseModel):
    """One customer message and what its reply must satisfy."""

    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1)
    expect: Expect = Field(default_factory=Expect)
    tags: list[str] | None = None

    @field_validator("user")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the user message is blank")
        return value

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> Any:
        return _as_list(value)


class Conversation(BaseModel):
    """A named script run in one fresh session."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    language: str
    tags: list[str] = Field(default_factory=list)
    turns: list[TurnSpec] = Field(min_length=1)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z]{2,3}", value):
            raise ValueError(f"language must be a code such as 'en' or 'zh'; got {value!r}")
        return value

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> Any:
        return _as_list(value)

    def turn_tags(self, index: int) -> set[str]:
        """A turn's own tags when it has any, else the conversation's."""
        own = self.turns[index].tags
        return set(own) if own is not None else set(self.tags)

    def turn_language(self, index: int) -> str:
        """The language the customer writes (and must be answered) in at this turn."""
        expected = self.turns[index].expect.language
        return expected if expected and expected != ANY_LANGUAGE else self.language


# -- loading -----------------------------------------------------------------------------------------
def load_conversations(path: str | Path) -> list[Conversation]:
    """Read and validate a conversation file; raises ConversationFileError with the place of any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConversationFileError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    return parse_conversations(text, source=str(path))


def parse_conversations(text: str, source: str = "<string>") -> list[Conversation]:
    """Validate conversations from YAML text (see `load_conversations`)."""
    try:
        data = load_yaml(text)  # no anchors or aliases: a tiny file must not expand to gigabytes
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConversationFileError(f"{source}: not valid YAML{where}: {problem}") from exc
    if isinstance(data, dict) and set(data) == {"conversations"}:
        data = data["conversations"]
    if data is None:
        raise ConversationFileError(f"{source}: the file is empty; expected a list of conversations")
    if not isinstance(data, list):
        raise ConversationFileError(
            f"{source}: expected a list of conversations (or a mapping with one key, 'conversations'), "
            f"got {type(data).__name__}"
        )
    conversations: list[Conversation] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(data, start=1):
        label = _label(i, item)
        if not isinstance(item, dict):
            raise ConversationFileError(
                f"{source}: {label}: expected a mapping with name, language and turns"
            )
        try:
            conversation = Conversation.model_validate(item)
        except ValidationError as exc:
            raise ConversationFileError(f"{source}: {label}: " + _describe(exc)) from exc
        if conversation.name in seen:
            raise ConversationFileError(
                f"{source}: {label}: the name is already used by conversation {seen[conversation.name]}"
            )
        seen[conversation.name] = i
        conversations.append(conversation)
    if not conversations:
        raise ConversationFileError(f"{source}: the file holds no conversations")
    return conversations


def _label(index: int, item: Any) -> str:
    name = item.get("name") if isinstance(item, dict) else None
    return f"conversation {index}" + (f" ({name!r})" if isinstance(name, str) and name else "")


def _describe(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        where = _where(err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            message = "required field is missing"
        elif err["type"] == "extra_forbidden":
            message = "unknown field"
        elif err["type"] == "literal_error":
            message = f"{err.get('input')!r} is not one of {', '.join(ROUTES)}"
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)


def _where(loc: tuple[Any, ...]) -> str:
    """('turns', 1, 'expect', 'route', 0) -> 'turn 2: expect.route[0]'."""
    parts = list(loc)
    prefix = ""
    if len(parts) >= 2 and parts[0] == "turns" and isinstance(parts[1], int):
        prefix, parts = f"turn {parts[1] + 1}", parts[2:]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not str(part).startswith(("str", "list[", "function-")):  # union branch names
            path += ("." if path else "") + str(part)
    return f"{prefix}: {path}" if prefix and path else prefix or path


# -- running -----------------------------------------------------------------------------------------
