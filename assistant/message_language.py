"""Language detection that copes with short, empty and mixed text."""

from __future__ import annotations

import re

from langdetect import DetectorFactory, LangDetectException, detect_langs

DetectorFactory.seed = 0  # langdetect is random by default; seed it so a message always gets one answer

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_KANA = re.compile(r"[\u3040-\u30ff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def message_language(text: str, default: str = "en", preferred: tuple[str, ...] = ("en", "zh")) -> str:
    """ISO 639-1 code of `text` ("zh" for Chinese); `default` when the text is too short to tell.

    A `preferred` language (those the knowledge base has) wins when langdetect gives it a fair chance:
    short English is often read as Catalan, Dutch or Swahili.
    """
    letters = _LETTER.findall(text or "")
    if not letters:
        return default
    cjk = len(_CJK.findall(text))
    # Han characters decide first: langdetect confuses short Chinese with Korean/Japanese.
    latin_words = len(_LATIN_WORD.findall(text))
    if cjk and not _KANA.search(text) and cjk >= latin_words:
        return "zh"
    if len(letters) < 4 or len(_LATIN_WORD.findall(text)) < 2:
        return default
    try:
        candidates = detect_langs(text)
    except LangDetectException:
        return default
    best = candidates[0]
    code = best.lang.split("-")[0]
    if code not in preferred:
        for c in candidates[1:]:
            if c.lang.split("-")[0] in preferred and c.prob >= 0.1:
                return c.lang.split("-")[0]
    # Very short Latin text is often misread (e.g. "hi there" as Swahili): trust only confident calls.
    if len(letters) < 20 and best.prob < 0.9:
        return default
    return code
