"""Language detection for chunks (langdetect, deterministic; Chinese reported as "zh")."""

from __future__ import annotations

import re

from langdetect import DetectorFactory, LangDetectException, detect

DetectorFactory.seed = 0

UNKNOWN = "und"
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


def detect_language(text: str) -> str:
    """Return an ISO 639-1 code ("en", "zh", ...) or "und" when undecidable."""
    letters = len(_LETTER.findall(text))
    if letters == 0:
        return UNKNOWN
    if len(_CJK.findall(text)) / letters > 0.3:
        return "zh"
    try:
        code = detect(text)
    except LangDetectException:
        return UNKNOWN
    return "zh" if code.startswith("zh") else code
