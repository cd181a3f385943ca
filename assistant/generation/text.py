"""Small language-aware text helpers: sentences, content tokens, numbers, script (Markdown cleanup lives in
knowledge.markdown_text)."""

from __future__ import annotations

import re

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_RE = re.compile(f"[{_CJK}]")
LATIN_RE = re.compile(r"[A-Za-z]")

_SENT_EN = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9$])")
_SENT_ZH = re.compile(r"(?<=[。！？；!?])")


def split_sentences(text: str) -> list[str]:
    """Split plain text into sentences (English and Chinese punctuation, and line breaks)."""
    sentences: list[str] = []
    for line in text.splitlines():
        for part in _SENT_ZH.split(line):
            for s in _SENT_EN.split(part):
                s = s.strip()
                if s:
                    sentences.append(s)
    return sentences


STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "then",
        "so",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "from",
        "with",
        "within",
        "without",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "doing",
        "have",
        "has",
        "had",
        "having",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "you",
        "your",
        "yours",
        "we",
        "our",
        "ours",
        "us",
        "i",
        "me",
        "my",
        "they",
        "them",
        "their",
        "he",
        "she",
        "his",
        "her",
        "can",
        "could",
        "will",
        "would",
        "shall",
        "should",
        "may",
        "might",
        "must",
        "not",
        "no",
        "yes",
        "any",
        "all",
        "some",
        "each",
        "every",
        "more",
        "most",
        "other",
        "such",
        "only",
        "own",
        "same",
        "than",
        "too",
        "very",
        "just",
        "also",
        "about",
        "into",
        "over",
        "after",
        "before",
        "under",
        "again",
        "further",
        "once",
        "what",
        "which",
        "who",
        "whom",
        "when",
        "where",
        "why",
        "how",
        "up",
        "down",
        "out",
        "off",
        "please",
        "thanks",
        "thank",
        "hi",
        "hello",
        "sure",
        "let",
        "lets",
        "get",
        "got",
        "yes",
        "okay",
        "ok",
        "via",
        "per",
    ]
)

_WORD = re.compile(r"[a-z][a-z'\-]*|\d+(?:[.,:]\d+)*")
_CJK_RUN = re.compile(f"[{_CJK}]+")


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_tokens(text: str) -> set[str]:
    """Content words (lower-cased, light stemming, no stopwords) plus CJK character bigrams."""
    low = text.lower().replace("’", "'")
    tokens = {
        _stem(w.strip("'-"))
        for w in _WORD.findall(low)
        if w.strip("'-") and w not in STOPWORDS and len(w) > 1
    }
    for run in _CJK_RUN.findall(text):
        if len(run) == 1:
            tokens.add(run)
        tokens.update(run[i : i + 2] for i in range(len(run) - 1))
    return tokens


_EN_NUMBERS = {
    w: str(i)
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
_EN_NUMBERS.update({"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "ninety": "90"})
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUM = re.compile("[零〇一二两三四五六七八九十百千]+")
_DIGITS = re.compile(r"\d+(?:[.,:]\d+)*")


def _cn_to_int(s: str) -> int | None:
    total, digit = 0, None
    for ch in s:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
    total += digit or 0
    return total if total > 0 else None


def _norm_number(s: str) -> str:
    s = re.sub(r"(?<=\d),(?=\d{3}\b)", "", s)
    if re.fullmatch(r"\d+\.0+", s):
        s = s.split(".")[0]
    if ":" in s or "." in s:
        return s
    return s.lstrip("0") or "0"


def numbers(text: str, *, words: bool = True) -> set[str]:
    """Numbers mentioned in `text`, normalised ("1,000" -> "1000"); Chinese/English number words too."""
    found = {_norm_number(m) for m in _DIGITS.findall(text)}
    if words:
        found.update(_EN_NUMBERS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in _EN_NUMBERS)
        for run in _CN_NUM.findall(text):
            if run in ("一",) or len(run) == 1 and run in "千百":
                continue  # "一" is mostly a word ("一个"), not a quantity
            value = _cn_to_int(run)
            if value is not None:
                found.add(str(value))
    return found


def number_parts(text: str) -> set[str]:
    """Numbers of a source text plus their parts ("2:00" -> "2"), so a reply may quote them loosely."""
    found = numbers(text)
    for n in list(found):
        for part in n.split(":"):
            if part:
                found.add(part.lstrip("0") or "0")
    return found


def script_language(text: str) -> str | None:
    """ "zh" when CJK characters dominate, "en" (Latin script) when letters are Latin, None if no letters."""
    cjk = len(CJK_RE.findall(text))
    latin = len(LATIN_RE.findall(text))
    if cjk == 0 and latin == 0:
        return None
    # A Chinese character carries roughly as much as a 3-letter word piece.
    return "zh" if cjk * 3 >= latin else "en"
