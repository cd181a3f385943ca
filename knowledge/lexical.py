"""Text preparation for the FTS5 lexical index: English words plus CJK character bigrams."""

from __future__ import annotations

import re

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"

STOPWORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "do", "does", "did", "for", "from", "had", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our", "so", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "to", "was", "we", "were", "what", "when", "where", "which", "who", "why", "will", "with", "would", "you", "your", "yours", "i'm", "im", "can't", "cant", "dont", "don't", "want", "need", "please", "hi", "hello", "thanks", "thank", "get", "got", "there's", "whats", "what's", "about", "also", "any", "some", "just"]
)
CJK_STOP = frozenset("的了吗呢吧啊是在我你他她它们这那有和与就都也还要请问怎么什么如何可以".replace("", " ").split())


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def index_text(text: str) -> str:
    """Text as stored in FTS5: CJK runs become space-separated overlapping bigrams."""
    return _CJK_RUN.sub(lambda m: " " + " ".join(_bigrams(m.group(0))) + " ", text)


def query_terms(query: str) -> list[str]:
    """Distinct lexical terms of a query: non-stopword words and CJK bigrams."""
    terms: list[str] = []
    for run in _CJK_RUN.findall(query):
        grams = _bigrams(run)
        terms.extend(g for g in grams if not (len(g) == 1 and g in CJK_STOP) and not all(c in CJK_STOP for c in g))
    for word in _TOKEN.findall(_CJK_RUN.sub(" ", query).lower()):
        if word not in STOPWORDS and (len(word) > 1 or word.isdigit()):
            terms.append(word)
    return list(dict.fromkeys(terms))


def match_expression(query: str) -> str | None:
    """An FTS5 MATCH expression OR-ing the query terms, or None when nothing is searchable."""
    terms = query_terms(query)
    if not terms:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
