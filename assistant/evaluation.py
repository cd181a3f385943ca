"""Conversation tests: multi-turn scripts with expected routes, intents and sources, and their evaluator.

A conversation file (YAML) is a list of conversations; each runs in one fresh session through
`Assistant.chat`, and every turn's reply is checked against what the turn expects. The format is
documented in docs/conversation-tests.md. `load_conversations` reads and validates a file;
`run_conversations` runs a list against anything with `.chat(message, session_id)` and returns pass
counts, the suite's headline metrics and one record per failed turn.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path, PurePath
from typing import Any, get_args
from urllib.parse import urlsplit

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

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_TEMPLATE_ID = re.compile(r"^tpl-(?P<intent>.+)-(?P<language>[a-z]{2})$")
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
def run_conversations(
    assistant: Any,
    conversations: Iterable[Conversation],
    *,
    template_intents: dict[str, str] | None = None,
    on_turn: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run each conversation in one fresh session through `assistant.chat` and score every turn.

    `template_intents` maps template ids to intents so that a source expected by intent name matches
    the template that was cited; when omitted it is read from `assistant.kb` if there is one, then
    guessed from the reply's intent and the `tpl-<intent>-<language>` naming. `on_turn` receives
    each turn's record as it completes (for progress output).
    """
    conversations = list(conversations)
    intents = dict(template_intents) if template_intents is not None else _template_intents(assistant)
    started = time.perf_counter()
    counts = {"kb": [0, 0], "zh": [0, 0], "oos": [0, 0], "handoff": [0, 0]}
    by_tag: dict[str, dict[str, int]] = {}
    by_language: dict[str, dict[str, int]] = {}
    facts: dict[str, list[int]] = {}  # language -> [kb turns stating all their facts, kb turns with facts]
    failures: list[dict[str, Any]] = []
    turns = passed_turns = passed_conversations = 0

    for conversation in conversations:
        session_id: str | None = None
        all_passed = True
        for index, spec in enumerate(conversation.turns):
            tags = conversation.turn_tags(index)
            language = conversation.turn_language(index)
            reply, error = None, None
            try:
                reply = assistant.chat(spec.user, session_id)
                session_id = getattr(reply, "session_id", None) or session_id
            except Exception as exc:  # a crash is one failed turn, the run goes on
                error = f"{type(exc).__name__}: {exc}"
            got = _got(reply, error, intents)
            problems = _check(spec.expect, conversation.language, got, error)
            ok = not problems
            turns += 1
            passed_turns += ok
            all_passed &= ok

            if KB_TAG in tags and spec.expect.sources:
                _count(
                    counts["kb"], error is None and _sources_match(spec.expect.sources, got["source_keys"])
                )
            if language == "zh":
                _count(
                    counts["zh"],
                    error is None and got["language"] == "zh" and bool(_HAN.search(got["reply"])),
                )
            if KB_TAG in tags and spec.expect.contains:
                _count(facts.setdefault(language, [0, 0]), error is None and _states_facts(spec.expect, got))
            if tags & OOS_TAGS:
                _count(counts["oos"], error is None and got["route"] in NOT_ANSWERED)
            if HANDOFF_TAG in tags:
                _count(counts["handoff"], error is None and got["route"] == "handoff")
            for tag in tags:
                _tally(by_tag, tag, ok)
            _tally(by_language, language, ok)

            record = {
                "conversation": conversation.name,
                "turn": index + 1,
                "user": spec.user,
                "expected": spec.expect.model_dump(exclude_defaults=True),
                "got": {k: v for k, v in got.items() if k != "source_keys"},
                "problems": problems,
            }
            if on_turn is not None:
                on_turn({**record, "passed": ok})
            if not ok:
                failures.append(record)
        passed_conversations += all_passed

    return {
        "conversations": len(conversations),
        "turns": turns,
        "passed_turns": passed_turns,
        "passed_conversations": passed_conversations,
        "kb_source_accuracy": _share(counts["kb"]),
        "zh_in_zh": _share(counts["zh"]),
        "oos_not_answered": _share(counts["oos"]),
        "handoff_rate": _share(counts["handoff"]),
        "facts_stated": {language: _share(counter) for language, counter in sorted(facts.items())},
        "fact_turns": {language: total for language, (_, total) in sorted(facts.items())},
        "metric_turns": {name: total for name, (_, total) in counts.items()},
        "by_tag": by_tag,
        "by_language": by_language,
        "seconds": round(time.perf_counter() - started, 2),
        "failures": failures,
    }


def _count(counter: list[int], hit: bool) -> None:
    counter[0] += bool(hit)
    counter[1] += 1


def _share(counter: list[int]) -> float | None:
    hits, total = counter
    return round(hits / total, 4) if total else None


def _tally(table: dict[str, dict[str, int]], key: str, ok: bool) -> None:
    row = table.setdefault(key, {"turns": 0, "passed": 0})
    row["turns"] += 1
    row["passed"] += ok


def _template_intents(assistant: Any) -> dict[str, str]:
    kb = getattr(assistant, "kb", None)
    templates = getattr(kb, "templates", None)
    if not callable(templates):
        return {}
    try:
        return {t.id: t.intent for t in templates()}
    except Exception:  # a missing or closed knowledge base only loses the id -> intent map
        return {}


def _got(reply: Any, error: str | None, intents: dict[str, str]) -> dict[str, Any]:
    if reply is None:
        return {
            "route": None,
            "intent": None,
            "confidence": None,
            "language": None,
            "reply": "",
            "sources": [],
            "source_keys": [],
            "error": error,
        }
    intent = getattr(reply, "intent", None)
    intent_name = getattr(intent, "name", None)
    route = getattr(reply, "route", None)
    sources = list(getattr(reply, "sources", None) or [])
    keys = [_source_keys(s, route, intent_name, intents) for s in sources]
    return {
        "route": route,
        "intent": intent_name,
        "confidence": getattr(intent, "confidence", None),
        "language": getattr(reply, "language", None),
        "reply": getattr(reply, "reply", "") or "",
        "sources": [k["label"] for k in keys],
        "source_keys": keys,
    }


def _source_keys(source: Any, route: str | None, reply_intent: str | None, intents: dict[str, str]) -> dict:
    """The names a cited source answers to: an article's slug, or a template's id and intent."""
    uri = str(getattr(source, "uri", "") or "")
    if uri.startswith("template:"):
        template_id = uri.removeprefix("template:")
        names = {template_id, uri}
        intent = intents.get(template_id)
        if intent is None and route in ("template", "smalltalk") and reply_intent:
            intent = reply_intent
        if intent is None and (m := _TEMPLATE_ID.match(template_id)):
            intent = m.group("intent").replace("-", "_")
        if intent:
            names.add(intent)
        return {"kind": "template", "label": uri, "names": names}
    raw = uri.split("#", 1)[0]
    if raw.startswith("kb:"):  # a document's public path ("kb:en/return-policy"), not a server file path
        raw = raw.removeprefix("kb:")
    elif "://" in raw:  # its public URL
        raw = urlsplit(raw).path
    path = PurePath(raw)
    slug = path.stem or str(getattr(source, "id", ""))
    names = {slug}
    if path.parent.name:
        names.add(f"{path.parent.name}/{slug}")
    return {
        "kind": "document",
        "label": f"{path.parent.name}/{slug}" if path.parent.name else slug,
        "names": names,
    }


def _normalise(expected: str) -> str:
    return expected[:-3] if expected.endswith(".md") else expected


def _sources_match(expected: list[str], keys: list[dict]) -> bool:
    wanted = {_normalise(e) for e in expected}
    return any(wanted & k["names"] for k in keys)


def _missing(needles: list[str | list[str]], reply: str) -> list[list[str]]:
    """The `contains` entries (each a list of alternatives) that the reply states none of."""
    text = reply.casefold()
    groups = [[n] if isinstance(n, str) else n for n in needles]
    return [g for g in groups if not any(a.casefold() in text for a in g)]


def _states_facts(expect: Expect, got: dict[str, Any]) -> bool:
    """A knowledge-base turn's reply states every fact it is expected to (its `contains`)."""
    return not _missing(expect.contains, got["reply"])


def _check(expect: Expect, default_language: str, got: dict[str, Any], error: str | None) -> list[str]:
    if error is not None:
        return [f"the assistant raised {error}"]
    problems: list[str] = []
    route = got["route"]
    if expect.route and route not in expect.route:
        problems.append(f"route {route!r} not in {expect.route}")
    if expect.intent and got["intent"] not in expect.intent:
        problems.append(f"intent {got['intent']!r} not in {expect.intent}")
    if expect.sources and not _sources_match(expect.sources, got["source_keys"]):
        problems.append(f"none of {expect.sources} cited (cited: {got['sources'] or 'nothing'})")
    if expect.not_sources:
        if route in ANSWERED_FROM_KB:
            problems.append(f"answered from the knowledge base (route {route!r}) but should not be")
        documents = [k["label"] for k in got["source_keys"] if k["kind"] == "document"]
        if documents:
            problems.append(f"cited articles {documents} but should not cite the knowledge base")
    language = expect.language or default_language
    if language != ANY_LANGUAGE:
        if got["language"] != language:
            problems.append(f"language {got['language']!r}, expected {language!r}")
        elif language == "zh" and not _HAN.search(got["reply"]):
            problems.append("reply has no Chinese characters")
    reply = got["reply"].casefold()
    for alternatives in _missing(expect.contains, got["reply"]):
        shown = alternatives[0] if len(alternatives) == 1 else " or ".join(map(repr, alternatives))
        problems.append(
            f"reply does not contain {shown!r}"
            if len(alternatives) == 1
            else f"reply contains none of {shown}"
        )
    for needle in expect.not_contains:
        if needle.casefold() in reply:
            problems.append(f"reply contains {needle!r}")
    return problems


def format_summary(result: dict[str, Any], max_failures: int = 20) -> str:
    """A few lines for a terminal: pass counts, the metrics, then the first failures."""

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1%}"

    lines = [
        f"conversations {result['passed_conversations']}/{result['conversations']} passed, "
        f"turns {result['passed_turns']}/{result['turns']} passed ({result['seconds']} s)",
        f"kb_source_accuracy {pct(result['kb_source_accuracy'])} · zh_in_zh {pct(result['zh_in_zh'])} · "
        f"oos_not_answered {pct(result['oos_not_answered'])} · handoff_rate {pct(result['handoff_rate'])}",
    ]
    if result.get("facts_stated"):
        lines.append(
            "facts_stated "
            + " · ".join(f"{lang} {pct(share)}" for lang, share in result["facts_stated"].items())
        )
    for failure in result["failures"][:max_failures]:
        lines.append(f"✗ {failure['conversation']} #{failure['turn']}: {'; '.join(failure['problems'])}")
    if len(result["failures"]) > max_failures:
        lines.append(f"… and {len(result['failures']) - max_failures} more failed turns")
    return "\n".join(lines)


__all__ = [
    "Conversation",
    "ConversationFileError",
    "Expect",
    "TurnSpec",
    "format_summary",
    "load_conversations",
    "parse_conversations",
    "run_conversations",
]
