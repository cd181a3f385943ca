"""Slots: values a template answer needs from the customer (`{order_id}`), declared in the knowledge base.

A templates file (YAML or JSON) may hold a `slots:` mapping next to its `templates:` list:

    slots:
      order_id:
        pattern: 'KH-?\\s?(\\d{8})'   # a regex; matched case-insensitively unless ignore_case: false
        format: 'KH-{1}'             # the value kept: {0} the whole match, {1}.. its groups (default {0})
        case: upper                  # upper / lower / keep (default) after formatting
        ask:                         # what the assistant says to get the value, per language
          en: If you tell me your order number (e.g. KH-20481937), I can answer for that order.

A match never starts or ends inside a run of ASCII letters or digits ("KH-12345678" matches in
"订单KH-12345678的" but not in "XKH-12345678"). Patterns come from files anyone with console access can upload,
so they are bounded (length, no nested quantifiers) and every search runs under a timeout.
"""

from __future__ import annotations

import json
import logging
import string
import unicodedata
from dataclasses import dataclass, field

import regex

log = logging.getLogger("lepton.knowledge")

MAX_SLOTS = 50
MAX_PATTERN = 200
MAX_TEXT = 1000  # an ask message or a format string
SEARCH_TIMEOUT_S = 0.05
MAX_VALUE = 200
_NAME = regex.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_CASES = ("keep", "upper", "lower")
# A quantified group that itself contains a quantifier ("(a+)+", "(\d*)*"): the classic catastrophic pattern.
_NESTED = regex.compile(r"\((?:[^()\\]|\\.)*[*+}](?:[^()\\]|\\.)*\)[*+{]")
_BOUNDED = r"(?<![A-Za-z0-9])(?:{})(?![A-Za-z0-9])"


class SlotError(ValueError):
    """A slot declaration or a template's use of slots that cannot be loaded; the message names it."""


@dataclass(frozen=True)
class Slot:
    """One declared slot: how to find its value in a message and how to ask for it."""

    name: str
    pattern: str
    format: str = "{0}"
    case: str = "keep"
    ignore_case: bool = True
    ask: dict[str, str] = field(default_factory=dict)

    @property
    def compiled(self) -> regex.Pattern[str]:
        return _compile(self.pattern, self.ignore_case)

    def find(self, text: str) -> str | None:
        """The canonical value of the first match in `text`, or None (also when the search times out)."""
        text = unicodedata.normalize("NFKC", text)  # full-width "ＫＨ－２０４８…" as typed on CJK keyboards
        try:
            match = self.compiled.search(text, timeout=SEARCH_TIMEOUT_S)
        except TimeoutError:
            log.warning("slot %s: pattern search timed out; no value taken", self.name)
            return None
        return None if match is None else self._value(match)

    def find_all(self, text: str) -> list[str]:
        """The canonical values of every match in `text`, first first, each once ([] when the search times
        out)."""
        text = unicodedata.normalize("NFKC", text)
        try:
            matches = list(self.compiled.finditer(text, timeout=SEARCH_TIMEOUT_S))
        except TimeoutError:
            log.warning("slot %s: pattern search timed out; no value taken", self.name)
            return []
        return list(dict.fromkeys(self._value(m) for m in matches))

    def _value(self, match: regex.Match[str]) -> str:
        groups = [match.group(0), *(g or "" for g in match.groups())]
        value = self.format.format(*groups).strip()[:MAX_VALUE]
        return value.upper() if self.case == "upper" else value.lower() if self.case == "lower" else value

    def ask_text(self, language: str) -> str | None:
        """The question asking for this slot in `language` (else English, else any), or None."""
        return self.ask.get(language) or self.ask.get("en") or next(iter(self.ask.values()), None)

    def to_json(self) -> str:
        return json.dumps(
            {
                "pattern": self.pattern,
                "format": self.format,
                "case": self.case,
                "ignore_case": self.ignore_case,
                "ask": self.ask,
            },
            ensure_ascii=False,
            sort_keys=True,
        )


_cache: dict[tuple[str, bool], regex.Pattern[str]] = {}


def _compile(pattern: str, ignore_case: bool) -> regex.Pattern[str]:
    key = (pattern, ignore_case)
    if key not in _cache:
        flags = regex.IGNORECASE if ignore_case else 0
        _cache[key] = regex.compile(_BOUNDED.format(pattern), flags)
    return _cache[key]


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SlotError(f"{where} must be non-empty text")
    if len(value) > MAX_TEXT:
        raise SlotError(f"{where} is longer than {MAX_TEXT} characters")
    return value.strip()


def parse_slot(name: object, spec: object) -> Slot:
    """One declaration from a `slots:` mapping; `SlotError` names what is wrong."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise SlotError(f"slot name {name!r} must be letters, digits and _ (not starting with a digit)")
    where = f"slot {name}"
    if not isinstance(spec, dict):
        raise SlotError(f"{where}: expected a mapping with pattern, format, case, ignore_case, ask")
    unknown = sorted(set(spec) - {"pattern", "format", "case", "ignore_case", "ask"})
    if unknown:
        raise SlotError(f"{where}: unknown field(s) {', '.join(map(str, unknown))}")
    pattern = spec.get("pattern")
    if not isinstance(pattern, str) or not pattern.strip():
        raise SlotError(f"{where}: pattern must be a non-empty regular expression")
    if len(pattern) > MAX_PATTERN:
        raise SlotError(f"{where}: pattern is longer than {MAX_PATTERN} characters")
    if _NESTED.search(pattern):
        raise SlotError(f"{where}: pattern has a quantified group containing a quantifier (slow to match)")
    ignore_case = spec.get("ignore_case", True)
    if not isinstance(ignore_case, bool):
        raise SlotError(f"{where}: ignore_case must be true or false")
    try:
        compiled = _compile(pattern, ignore_case)
    except regex.error as exc:
        raise SlotError(f"{where}: invalid pattern: {exc}") from None
    fmt = _text(spec.get("format", "{0}"), f"{where}: format")
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(fmt) if f is not None]
    except ValueError as exc:
        raise SlotError(f"{where}: invalid format {fmt!r}: {exc}") from None
    groups = compiled.groups
    for f in fields:
        if not f.isdigit() or int(f) > groups:
            raise SlotError(f"{where}: format field {{{f}}} must be {{0}} (the match) or a group 1..{groups}")
    case = spec.get("case", "keep")
    if case not in _CASES:
        raise SlotError(f"{where}: case must be one of {', '.join(_CASES)}")
    ask = spec.get("ask") or {}
    if isinstance(ask, str):
        ask = {"en": ask}
    if not isinstance(ask, dict) or not ask:
        raise SlotError(f"{where}: ask must map languages to the question that asks for the value")
    asks = {str(lang).strip().lower(): _text(q, f"{where}: ask.{lang}") for lang, q in ask.items()}
    return Slot(name, pattern, fmt, case, ignore_case, asks)


def parse_slots(data: object) -> dict[str, Slot]:
    """A `slots:` mapping (None = none declared) into slots by name; `SlotError` on the first bad one."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SlotError("slots must be a mapping of slot names to declarations")
    if len(data) > MAX_SLOTS:
        raise SlotError(f"more than {MAX_SLOTS} slots declared")
    return {str(name): parse_slot(name, spec) for name, spec in data.items()}


def slot_from_json(name: str, text: str) -> Slot:
    """A slot stored with `Slot.to_json` (validated again: stored text is not trusted more than a file)."""
    return parse_slot(name, json.loads(text))


def template_slots(answer: str) -> list[str]:
    """The slot names an answer uses, in order; `SlotError` for text `str.format` could not fill
    (a lone brace, `{}`, `{0}`, `{a.b}`): literal braces are written `{{` and `}}`."""
    try:
        parsed = list(string.Formatter().parse(answer))
    except ValueError as exc:
        raise SlotError(
            f"answer is not valid template text ({exc}); write literal braces as {{{{ and }}}}"
        ) from None
    names: list[str] = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not _NAME.fullmatch(name) or spec or conversion:
            raise SlotError(f"answer placeholder {{{name}}} must be a slot name like {{order_id}}")
        if name not in names:
            names.append(name)
    return names


def check_template(answer: str, declared: set[str] | dict[str, Slot]) -> list[str]:
    """The slots `answer` uses; `SlotError` naming any that no `slots:` section declares."""
    names = template_slots(answer)
    missing = [n for n in names if n not in declared]
    if missing:
        raise SlotError(
            f"slot(s) {', '.join('{' + n + '}' for n in missing)} not declared "
            "(declare them under slots: in a templates file)"
        )
    return names
