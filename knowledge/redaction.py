"""Personal-data redaction for text that is stored or used for training."""

from __future__ import annotations

import re

# Order numbers (KH-12345678) are not personal data and are needed to answer, so they are kept.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("[EMAIL]", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("[CARD]", re.compile(r"(?<![A-Za-z0-9-])(?:\d[ -]?){12,18}\d(?![A-Za-z0-9])")),
    ("[IBAN]", re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){3,7}\b")),
    (
        "[ACCOUNT]",
        re.compile(r"(?i)\b(?:account|acct|a/c|账号|账户)\s*(?:no\.?|number|#|号)?\s*[:：]?\s*\d{6,}\b"),
    ),
    (
        "[PHONE]",
        re.compile(
            r"(?<![A-Za-z0-9-])(?:\+?\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d{3,4}[ .-]?\d{3,4}(?:[ .-]?\d{2,4})?(?![A-Za-z0-9])"
        ),
    ),
    (
        "[ADDRESS]",
        re.compile(
            r"(?i)\b\d{1,5}\s+(?:[A-Z][a-z]+\s){1,4}(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|way|court|ct)\b\.?"
        ),
    ),
    ("[ADDRESS]", re.compile(r"[\u4e00-\u9fff]{2,}(?:路|街|大道)\d+号(?:[\u4e00-\u9fff\d]*室)?")),
]


def redact(text: str) -> str:
    """`text` with emails, card/phone/account numbers and street addresses replaced by tags."""
    for tag, pattern in _PATTERNS:
        text = pattern.sub(tag, text)
    return text
