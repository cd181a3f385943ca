"""Text preparation for the FTS5 lexical index: English words plus CJK character bigrams."""

from __future__ import annotations

import re

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"
MAX_QUERY_TERMS = 32  # distinct terms a lexical search looks up (both backends: query_terms)
# BM25 field weights: a title word counts most, then a heading's, then the body's. FTS5's bm25() takes one weight
# per column of units_fts in order (unit_id UNINDEXED, title, heading, body): FTS5_RANK; the PostgreSQL lexicon
# (knowledge/lexical_postgres.py) weights its term counts with the same numbers.
FIELD_WEIGHTS = {"title": 2.0, "heading": 1.5, "body": 1.0}
FTS5_RANK = "bm25(units_fts, 0.0, {title}, {heading}, {body})".format(**FIELD_WEIGHTS)

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "do",
        "does",
        "did",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "i'm",
        "im",
        "can't",
        "cant",
        "dont",
        "don't",
        "want",
        "need",
        "please",
        "hi",
        "hello",
        "thanks",
        "thank",
        "get",
        "got",
        "there's",
        "whats",
        "what's",
        "about",
        "also",
        "any",
        "some",
        "just",
    ]
)
CJK_STOP = frozenset(
    "的了吗呢吧啊是在我你他她它们这那有和与就都也还要请问怎么什么如何可以".replace("", " ").split()
)


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def index_text(text: str) -> str:
    """Text as stored in FTS5: CJK runs become space-separated overlapping bigrams."""
    return _CJK_RUN.sub(lambda m: " " + " ".join(_bigrams(m.group(0))) + " ", text)


def query_terms(query: str, limit: int = MAX_QUERY_TERMS) -> list[str]:
    """Distinct lexical terms of a query: non-stopword words and CJK bigrams, at most `limit` of them (the
    longest, the first among equals; order kept): a pasted page makes no giant MATCH expression or SQL query."""
    terms: list[str] = []
    for run in _CJK_RUN.findall(query):
        grams = _bigrams(run)
        terms.extend(
            g for g in grams if not (len(g) == 1 and g in CJK_STOP) and not all(c in CJK_STOP for c in g)
        )
    for word in _TOKEN.findall(_CJK_RUN.sub(" ", query).lower()):
        if word not in STOPWORDS and (len(word) > 1 or word.isdigit()):
            terms.append(word)
    terms = list(dict.fromkeys(terms))
    if len(terms) > limit:  # a longer word is usually a rarer one, worth more to BM25
        keep = set(sorted(range(len(terms)), key=lambda i: (-len(terms[i]), i))[:limit])
        terms = [t for i, t in enumerate(terms) if i in keep]
    return terms


def match_expression(query: str) -> str | None:
    """An FTS5 MATCH expression OR-ing the query terms, or None when nothing is searchable."""
    terms = query_terms(query)
    if not terms:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


CJK_FUNCTION = frozenset(
    "我你您他她它们的了吗呢吧啊呀是在和与就都也还要想请问帮怎么样办什如何可以能个一这那有没给让把被"
)


def coverage(query: str, text: str) -> float:
    """Share of the query's content (CJK characters, English words) found in `text` as whole terms.

    A CJK character counts as found when one of its bigrams with a neighbouring query character
    occurs in the text (or the single character, for a run of one). Function characters are ignored.
    Used as an absolute lexical score when the embedder does not understand the query's language.
    """
    low = text.lower()
    found = total = 0
    for run in _CJK_RUN.findall(query):
        covered = [False] * len(run)
        for i in range(len(run) - 1):
            if run[i : i + 2] in low:
                covered[i] = covered[i + 1] = True
        if len(run) == 1 and run in low:
            covered[0] = True
        for ch, ok in zip(run, covered, strict=True):
            if ch not in CJK_FUNCTION:
                total += 1
                found += ok
    for word in _TOKEN.findall(_CJK_RUN.sub(" ", query).lower()):
        if word not in STOPWORDS and len(word) > 1:
            total += 1
            found += re.search(rf"\b{re.escape(word[: max(4, len(word) - 2)])}", low) is not None
    return found / total if total else 0.0
