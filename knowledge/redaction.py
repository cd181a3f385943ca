"""Personal-data redaction for text that is stored or used for training.

Tags replace the data, never the words around it ("my card [CARD] was declined"): the words carry the intent.
Order numbers (KH-12345678), dates, prices and quantities are not personal data and are kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import phonenumbers

# Phone numbers are found by libphonenumber: international (+..) numbers anywhere, national ones in these
# regions, and only numbers valid for their region (so years, prices and order numbers stay).
PHONE_REGIONS = ("US", "GB", "CN", "DE", "FR", "ES", "IT", "IN", "AU")
TAG = re.compile(r"\[(?:EMAIL|PHONE|CARD|IBAN|ID|IP|ACCOUNT|NUMBER|ADDRESS)\]")

_STOPWORDS = re.compile(
    r"(?i)\b(?:a|an|the|on|in|of|for|to|my|our|your|and|or|at|by|with|from|is|was|are|it|i|we|you|after|"
    r"before|about|per|hours?|minutes?|days?|weeks?|months?|years?|times?|items?)\b"
)
# Street types that are plain words elsewhere ("1 hour after you place it") need capitalised names before them.
_EN_STREET = r"street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|highway|hwy|parkway|pkwy"
_EN_STREET_AMBIGUOUS = (
    r"way|court|ct|place|pl|terrace|close|crescent|cres|square|sq|circle|cir|trail|row|mews|gardens|grove"
)
_ROMANCE_STREET = (
    r"rue|avenue|boulevard|bd|chemin|allée|allee|impasse|quai|via|viale|piazza|corso|calle|avenida|plaza|"
    r"paseo|rua|travessa"
)
_US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|"
    "OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY"
)
# A Chinese place-name character: not one of the little words around an address ("我的地址是…").
_ZH = r"(?:(?![的是在我您你住址和到寄送请])[\u4e00-\u9fff])"


def _luhn(number: str) -> bool:
    digits = [int(c) for c in number if c.isdecimal()]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(reversed(digits)))
    return total % 10 == 0


def _iban_ok(candidate: str) -> bool:
    s = re.sub(r"\s", "", candidate).upper()
    if not (s.isascii() and 15 <= len(s) <= 34):  # (?i) lets [A-Z] match a few non-ASCII letters ("ſ")
        return False
    return int("".join(str(int(c, 36)) for c in s[4:] + s[:4])) % 97 == 1


def _not_prose(candidate: str) -> bool:
    """A street candidate such as "2 weeks on the road" is prose, not an address."""
    words = re.findall(r"[A-Za-z']+", candidate)[:-1]  # the street type itself may be a stopword ("Way")
    return not _STOPWORDS.search(" ".join(words))


# (tag, pattern, check): the pattern's group "pii" (or the whole match) is replaced when check passes.
_Rule = tuple[str, re.Pattern[str], Callable[[str], bool] | None]
_BEFORE_PHONES: list[_Rule] = [
    ("[EMAIL]", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), None),
    ("[IBAN]", re.compile(r"(?i)\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"), _iban_ok),
    ("[CARD]", re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])"), _luhn),
    (
        "[CARD]",  # security code and expiry, after their keyword
        re.compile(
            r"(?i)\b(?:cvv2?|cvc2?|csc|security code|exp(?:iry|ires|iration)?(?: date)?|valid thru)\.?\s*[:#]?\s*"
            r"(?P<pii>\d{3,4}\b|(?:0?[1-9]|1[0-2])\s*/\s*(?:\d{4}|\d{2})\b)"
        ),
        None,
    ),
    (
        "[ID]",  # US social security numbers, UK national insurance numbers, Chinese resident ID numbers
        re.compile(
            r"\b\d{3}-\d{2}-\d{4}\b|\b[A-CEGHJ-PR-TW-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b|\b\d{17}[\dXx]\b"
        ),
        None,
    ),
    (
        "[ID]",
        re.compile(
            r"(?i)\b(?:ssn|social security(?: number| no\.?)?|passport(?: number| no\.?)?|tax id|"
            r"driver'?s licen[cs]e(?: number| no\.?)?)\s*(?:is\s*)?[:#]?\s*(?P<pii>(?=[A-Z0-9 -]*\d)[A-Z0-9][A-Z0-9 -]{4,18}[A-Z0-9])\b"
            r"|(?:身份证|护照)(?:号码?)?\s*(?:是\s*)?[:：]?\s*(?P<zh>[A-Za-z0-9]{6,18})"
        ),
        None,
    ),
    (
        "[IP]",
        re.compile(r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\w.])"),
        None,
    ),
    (
        "[ACCOUNT]",  # after its keyword: account, sort code, routing number, BSB
        re.compile(
            r"(?i)\b(?:account|acct|a/c|sort code|routing|aba|bsb)(?:\s*(?:no\.?|number|#|code))?\s*(?:is\s*)?[:#]?\s*"
            r"(?P<pii>\d[\d -]{4,}\d)\b|(?:账号|账户|卡号)\s*(?:是\s*)?[:：]?\s*(?P<zh>\d[\d -]{4,}\d)"
        ),
        None,
    ),
]
_AFTER_PHONES: list[_Rule] = [
    ("[NUMBER]", re.compile(r"(?<![\w./-])\d(?:[ ]?\d){7,}(?![\w/-])"), None),  # any other long digit run
    (
        "[ADDRESS]",  # 221B Baker Street, 1600 Pennsylvania Ave NW, 42 rue de Rivoli
        re.compile(
            r"\b\d{1,5}[A-Za-z]?(?:[-/]\d{1,5})?,?\s+"
            rf"(?:(?:[A-Za-z][\w'.-]*\s+){{1,3}}?(?i:{_EN_STREET})|(?:[A-Z][\w'.-]*\s+){{1,4}}?"
            rf"(?i:{_EN_STREET}|{_EN_STREET_AMBIGUOUS}))\b\.?(?:\s+(?:NW|NE|SW|SE|N|S|E|W)\b)?"
            rf"|\b\d{{1,5}}(?:\s?(?:bis|ter))?,?\s+(?i:{_ROMANCE_STREET})\s+(?:[\w'-]+\s+){{0,3}}?[A-ZÀ-Ý][\w'-]*"
        ),
        _not_prose,
    ),
    (
        "[ADDRESS]",  # Calle Mayor 5, Via Roma 10, Hauptstraße 5, Berliner Str. 12
        re.compile(
            rf"\b(?i:{_ROMANCE_STREET})\s+(?:[\w'-]+\s+){{0,3}}?[A-ZÀ-Ý][\w'-]*,?\s+\d{{1,5}}[a-z]?\b"
            r"|\b[A-ZÄÖÜ][\wäöüß-]*(?:straße|strasse|str\.|weg|platz|gasse|allee|damm)\s*\d{1,5}[a-z]?\b"
            r"|\b[A-ZÄÖÜ][\wäöüß-]*\s+(?:Straße|Strasse|Str\.|Weg|Platz|Gasse|Allee|Damm)\s*\d{1,5}[a-z]?\b"
        ),
        None,
    ),
    (
        "[ADDRESS]",  # flat / unit numbers, PO boxes, UK postcodes, US state + ZIP
        re.compile(
            r"\b(?i:apt|apartment|suite|ste|unit|flat)\.?\s*#?\s*\d+[A-Za-z]?\b"
            r"|\b(?i:p\.?\s?o\.?\s*box)\s+\d+"
            r"|\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b"
            rf"|\b(?:{_US_STATES})\s+\d{{5}}(?:-\d{{4}})?\b"
        ),
        None,
    ),
    (
        "[ADDRESS]",  # 北京市朝阳区建国路88号, 上海市黄浦区南京东路100弄3号401室
        re.compile(
            # Atomic and bounded: "北京市" repeated a thousand times must not backtrack exponentially.
            rf"(?>(?:{_ZH}{{1,8}}?(?:省|市|区|县|镇)){{0,4}}){_ZH}{{1,10}}?(?:路|街|大道|巷|弄|胡同)\d+(?:弄\d+)?号"
            r"(?:[\u4e00-\u9fff\d]{0,6}?(?:室|楼|层|单元))?"
        ),
        None,
    ),
]


def _apply(rule: _Rule, text: str, public: str) -> str:
    tag, pattern, check = rule

    def swap(m: re.Match[str]) -> str:
        key = next((k for k in ("pii", "zh") if k in pattern.groupindex and m.group(k)), None)
        found = m.group(key) if key else m.group(0)
        if (check is not None and not check(found)) or (public and found in public):
            return m.group(0)
        if key is None:
            return tag
        start, end = m.span(key)
        return m.group(0)[: start - m.start()] + tag + m.group(0)[end - m.start() :]

    return pattern.sub(swap, text)


def _glued(text: str, start: int, end: int) -> bool:
    """Digits that are part of a longer token, such as the order number KH-16480894, are not a phone number."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return (before.isascii() and before.isalnum()) or before in "-/." or (after.isascii() and after.isalnum())


# Where a phone number can be: 6+ digits with separators between them. Only these stretches go to the matcher,
# which is where redaction spends its time (nine regions each).
_DIGIT_STRETCH = re.compile(r"\+?\(?\d(?:[\d ().-]{0,3}\d){5,}\)?")


def _phones(text: str, public: str) -> str:
    spans = []
    for stretch in _DIGIT_STRETCH.finditer(text):
        if len(stretch.group()) > 64:  # a longer blob of digits is no phone number: [NUMBER] takes its runs
            continue
        for region in PHONE_REGIONS:
            for m in phonenumbers.PhoneNumberMatcher(
                stretch.group(), region, leniency=phonenumbers.Leniency.VALID
            ):
                start, end = stretch.start() + m.start, stretch.start() + m.end
                if not _glued(text, start, end) and not (public and text[start:end] in public):
                    spans.append((start, end))
    spans.sort()
    merged: list[list[int]] = []
    for start, end in spans:  # regions may read one number with different extents: take their union
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, last = [], 0
    for start, end in merged:
        out += [text[last:start], "[PHONE]"]
        last = end
    return "".join(out) + text[last:]


def redact(text: str, keep: Iterable[str] = ()) -> str:
    """`text` with emails, phone / card / account / ID numbers, IP and street addresses replaced by tags.

    `keep`: public texts, such as the knowledge-base passages a reply quoted; a value found verbatim in one of
    them is the company's own (its support address, its hotline) and stays.
    """
    public = "\n".join(keep)
    for rule in _BEFORE_PHONES:
        text = _apply(rule, text, public)
    text = _phones(text, public)
    for rule in _AFTER_PHONES:
        text = _apply(rule, text, public)
    return text


def has_tags(text: str) -> bool:
    """Whether `text` holds a redaction tag (some personal data was taken out of it)."""
    return bool(TAG.search(text))
