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
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

from assistant.conversation_file import (
    ANSWERED_FROM_KB,
    ANY_LANGUAGE,
    HANDOFF_TAG,
    KB_TAG,
    NOT_ANSWERED,
    OOS_TAGS,
    Conversation,
    ConversationFileError,
    Expect,
    TurnSpec,
    load_conversations,
    parse_conversations,
)

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_TEMPLATE_ID = re.compile(r"^tpl-(?P<intent>.+)-(?P<language>[a-z]{2})$")


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
