"""Language detection that copes with short, empty and mixed text."""

from __future__ import annotations

import re

from langdetect import DetectorFactory, LangDetectException, detect_langs

DetectorFactory.seed = 0  # langdetect is random by default; seed it so a message always gets one answer

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_KANA = re.compile(r"[\u3040-\u30ff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def detect_language(text: str, default: str = "en") -> str:
    """ISO 639-1 code of `text` ("zh" for Chinese); `default` when the text is too short to tell."""
    letters = _LETTER.findall(text or "")
    if not letters:
        return default
    cjk = len(_CJK.findall(text))
    # Han characters decide first: langdetect confuses short Chinese with Korean/Japanese.
    latin_words = len(_LATIN_WORD.findall(text))
    if cjk and not _KANA.search(text) and cjk >= latin_words:
        return "zh"
    if len(letters) < 4:
        return default
    try:
        best = detect_langs(text)[0]
    except LangDetectException:
        return default
    code = best.lang.split("-")[0]
    # Very short Latin text is often misread (e.g. "hi there" as Swahili): trust only confident calls.
    if len(letters) < 20 and best.prob < 0.9:
        return default
    return code
