"""Extractive answer: the one to three units of the best passage that answer the question.

On a CPU without a generator this *is* the reply, so it must read like an agent wrote it: whole
sentences (a condition after a semicolon stays), table rows as sentences, lists with their lead-in, the
"otherwise …" sentence that qualifies a fact, never a heading or a "Label:" fragment; one passage, in the
customer's language, so the answer can cite where it came from.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from assistant.generation.text import content_tokens
from assistant.generation.units import Unit, passage_units
from training.generator_prompt import Passage

Embed = Callable[[list[str]], np.ndarray]

# A sentence that qualifies the one before it ("Otherwise …", "否则…") goes with it; one that leans on the
# one before ("This …", "该…") brings it along.
_QUALIFIER = re.compile(
    r"^(?:otherwise|if not|unless|except|however|but|note that|in that case|for any other reason)\b"
    r"|^(?:否则|但|不过|除非|除此之外|如非|若非|其他原因|其他情况|其余)",
    re.I,
)
_LEANS_BACK = re.compile(
    r"^(?:it|this|that|these|those|they|such|then)\b|\b(?:another|then)\b|^(?:该|此|这|其|它|上述|以上|另外|此外)|还需",
    re.I,
)
# A sentence that carries a process on ("After that …", "之后…") comes with the step before it: the
# customer asking how long needs both figures, not the first half of the timeline.
_CONTINUES = re.compile(
    r"^(?:then|after that|afterwards|next|later)\b|^(?:之后|然后|随后|接着|此后|其后)", re.I
)
# What kind of fact a question asks for, and the units that state one (English and Chinese).
_ASKS = {
    "duration": re.compile(
        r"\bhow (?:long|soon|quickly|many (?:days|weeks|hours|months|years))\b|\bwhen will\b"
        r"|多久|多长时间|几天|多少天|几个工作日|几周|什么时候到|何时",
        re.I,
    ),
    "money": re.compile(
        r"\bhow much\b|\bcosts?\b|\bprices?\b|\bfees?\b|\bcharged?\b|\bpay\b|\bfree\b"
        r"|多少钱|费用|运费|价格|收费|免费|付费|要钱|花多少",
        re.I,
    ),
    "contact": re.compile(
        r"\bphone\b|\bcall\b|\bemail\b|\bcontact\b|\bopening hours\b|\breach you\b|电话|邮箱|邮件|联系", re.I
    ),
    "steps": re.compile(r"\bhow (?:do|can|should|would) (?:i|we)\b|\bhow to\b|怎么|如何|怎样", re.I),
}
_STATES = {
    "duration": re.compile(
        r"\d\s*(?:[–—-]|to|至|到)?\s*\d*\s*(?:business |working |calendar )?"
        r"(?:days?|weeks?|hours?|months?|years?|minutes?)\b"
        r"|\d\s*(?:[–—-]|至|到)?\s*\d*\s*(?:个)?(?:工作日|天|周|小时|个月|年|分钟)"
        r"|\binstant(?:ly)?\b|\bimmediately\b|即时|立即|马上",
        re.I,
    ),
    "money": re.compile(
        r"[$€£¥]\s?\d|\d\s?(?:%|美元|元|欧元|英镑)|\bfree\b|\bno charge\b|免费|全免|不收", re.I
    ),
    "contact": re.compile(r"\d{3}[-.\s]\d{3}[-.\s]\d{4}|\S+@\S+\.\w+"),
}


# How a unit tells the customer what to do: numbered steps, a menu path ("Account > Privacy"), or an
# instruction ("Go to …", "请进入…").
_INSTRUCTS = re.compile(
    r"\w[\w ]{0,30} > \w|^(?:please )?(?:go to|select|click|tap|open|sign (?:in|up)|log in|choose|visit|request"
    r"|call|email|contact|send|fill in|enter|hand|bring|drop|take|use|add|pick|upload|print|download|scan|press"
    r"|type|reply|show|ask|pay|follow|check|update|change|cancel|return|book|register|apply|submit|text)\b"
    r"|^(?:请)?(?:进入|点击|选择|登录|打开|前往|发送|联系|拨打|填写|申请|携带|带上|交回|归还|上传|扫描|提交|预约)",
    re.I,
)
_QUANTITY = re.compile(r"\d")


def asked_kinds(question: str) -> list[str]:
    """The kinds of fact the question asks for: duration, money, contact, steps."""
    return [kind for kind, pattern in _ASKS.items() if pattern.search(question)]


def states(unit: Unit, kind: str, exact: bool = False) -> bool:
    """The unit states a fact of `kind`; `exact`: a duration as a figure ("5–10 days"), not "instantly"
    (the exception a how-long question is rarely about)."""
    if kind == "steps":
        return unit.kind == "steps" or bool(_INSTRUCTS.search(unit.text))
    if exact and kind == "duration":
        return any(_QUANTITY.search(m.group(0)) for m in _STATES[kind].finditer(unit.text))
    return bool(_STATES[kind].search(unit.text))


@dataclass
class Composed:
    """The answer, the passage it was taken from (cite it first), and the units it quotes."""

    text: str
    passage: Passage | None = None
    units: list[str] = field(default_factory=list)


_CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_CJK_FUNCTION = frozenset("的了吗呢吧啊是在我你您们他她它这那和与或及就都也还要会能可以把被让给对为")


def _tokens(text: str) -> set[str]:
    """Content words, plus single Chinese characters: bigrams alone miss near-synonyms (退款/退回, 到账/入账)."""
    return content_tokens(text) | {c for c in _CJK_CHAR.findall(text) if c not in _CJK_FUNCTION}


def _lang(code: str) -> str:
    return code.lower().split("-")[0]


def _weights(units: list[tuple[set[str], set[str]]]) -> Callable[[str], float]:
    """IDF over the candidate units: a word every unit shares ("return" in a returns article) counts less."""
    n = len(units)
    df: dict[str, int] = {}
    for toks, ctx in units:
        for t in toks | ctx:
            df[t] = df.get(t, 0) + 1
    return lambda t: math.log(1.0 + (n + 1) / (df.get(t, 0) + 1))


def _lexical(q: set[str], toks: set[str], ctx: set[str], weight: Callable[[str], float]) -> float:
    """Weighted share of the question's words in the unit (its heading and table headers count half),
    mildly favouring short units."""
    total = sum(weight(t) for t in q)
    if not total:
        return 0.0
    hit = sum(weight(t) for t in q & toks) + 0.5 * sum(weight(t) for t in (q & ctx) - toks)
    return hit / total / (1.0 + len(toks) / 80.0)


def _unit_range(x: np.ndarray) -> np.ndarray:
    span = float(x.max() - x.min()) if x.size else 0.0
    return (x - x.min()) / span if span > 1e-9 else np.zeros_like(x, dtype=float)


def embed_text(u: Unit) -> str:
    """What a unit's vector is computed from (its heading gives it context)."""
    return f"{u.heading}: {u.text}" if u.heading else u.text


def rank_units(
    question: str, pool: list[Passage], embed: Embed | None = None, embed_query: Embed | None = None
) -> tuple[list[tuple[int, Unit]], list[tuple[set[str], set[str]]], np.ndarray]:
    """Every unit of `pool` as (passage rank, unit), its (words, context words), and its score."""
    cands: list[tuple[int, Unit]] = [(rank, u) for rank, p in enumerate(pool) for u in passage_units(p.text)]
    if not cands:
        return [], [], np.zeros(0)
    q = _tokens(question)
    feats = [(_tokens(u.text), _tokens(f"{u.heading} {u.context}") - _tokens(u.text)) for _, u in cands]
    weight = _weights(feats)
    scores = np.array([_lexical(q, toks, ctx, weight) for toks, ctx in feats])
    asked = asked_kinds(question)
    for i, (_, u) in enumerate(cands):
        if any(states(u, kind) for kind in asked):
            scores[i] *= 1.25  # the unit states the kind of fact asked for (a duration, a price)
    # Retrieval order is a useful prior: the best-ranked passages get a small bonus.
    scores = scores * np.array([1.0 + 0.08 * (rank == 0) + 0.04 * (rank == 1) for rank, _ in cands])
    if embed is not None:
        # Exact words (product names, "express") matter in support answers, meaning matters for paraphrases:
        # blend the overlap with min-max normalised cosine (embedders differ in their cosine range). Only the
        # two passages the words favour are embedded, so a cold cache costs a few units, not the whole pool.
        best_of: dict[int, float] = {}
        for (rank, _), score in zip(cands, scores, strict=True):
            best_of[rank] = max(best_of.get(rank, 0.0), float(score))
        ranks = sorted(best_of, key=lambda r: -best_of[r])
        finalists = set(ranks[:2])
        idx = [i for i, (rank, _) in enumerate(cands) if rank in finalists]
        vecs = np.asarray(embed([embed_text(cands[i][1]) for i in idx]), dtype=np.float32)
        qvec = np.asarray((embed_query or embed)([question]), dtype=np.float32)[0]
        top = float(scores[idx].max()) or 1.0
        blended = 0.55 * scores[idx] + 0.45 * top * _unit_range(vecs @ qvec)
        scores = np.zeros_like(scores)
        scores[idx] = blended

    return cands, feats, scores


def compose_answer(
    question: str,
    passages: list[Passage],
    language: str,
    embed: Embed | None = None,
    embed_query: Embed | None = None,
    max_units: int = 3,
) -> Composed:
    """The best passage's units that answer `question` (up to `max_units`, plus the sentences that qualify
    them), in reading order, as plain text. Passages in `language` are preferred; `embed` (cache it: see
    vector_cache.py) and `embed_query` add semantic similarity to the word overlap."""
    lang = _lang(language)
    pool = [p for p in passages if _lang(p.language) == lang] or list(passages)
    cands, feats, scores = rank_units(question, pool, embed, embed_query)
    if not cands:
        return Composed("")

    best = int(np.argmax(scores))
    best_rank = cands[best][0]
    mine = sorted((i for i, (rank, _) in enumerate(cands) if rank == best_rank), key=lambda i: -scores[i])
    top = float(scores[best])
    picked: list[int] = []
    picked_tokens: list[set[str]] = []
    limit = 2 if cands[best][1].kind in ("list", "steps") else max_units
    for i in mine:
        if picked and (scores[i] < 0.7 * top or scores[i] <= 0):
            break
        toks = feats[i][0]
        if any(len(toks & t) >= 0.7 * max(1, min(len(toks), len(t))) for t in picked_tokens):
            continue  # near-duplicate of a unit already chosen (a summary line and its table row)
        picked.append(i)
        picked_tokens.append(toks)
        if len(picked) >= limit:
            break
    # A question that asks for a kind of fact (how long, how much, how do I) is answered with one: when no
    # chosen unit states it, the passage's best unit that does comes too, if it is still on topic.
    asked = asked_kinds(question)
    if asked and not any(states(cands[i][1], kind, exact=True) for i in picked for kind in asked):
        stating = [
            i for i in mine if i not in picked and any(states(cands[i][1], k, exact=True) for k in asked)
        ]
        if stating and scores[stating[0]] >= 0.4 * top and len(picked) < max_units:
            picked.append(stating[0])
    chosen = set(picked)
    units = [u for rank, u in cands if rank == best_rank]
    index = {u.pos: i for i, (rank, u) in enumerate(cands) if rank == best_rank}
    for i in picked:
        u = cands[i][1]
        if u.kind in ("list", "steps"):
            # "Add installation for $99 at checkout. The crew will: …": the paragraph that introduces a
            # list states what the list is about, so its last sentence comes along.
            prev = units[u.pos - 1] if u.pos > 0 else None
            if prev is not None and prev.block == u.block and prev.kind == "sentence":
                chosen.add(index[prev.pos])
            continue
        if u.kind != "sentence":
            continue
        nxt = units[u.pos + 1] if u.pos + 1 < len(units) else None
        if (
            nxt is not None
            and nxt.block == u.block
            and (_QUALIFIER.search(nxt.text) or _CONTINUES.search(nxt.text))
        ):
            chosen.add(index[nxt.pos])
        prev = units[u.pos - 1] if u.pos > 0 else None
        if prev is not None and prev.block == u.block and _LEANS_BACK.search(u.text):
            chosen.add(index[prev.pos])
    ordered = sorted(chosen, key=lambda i: cands[i][1].pos)
    texts = [cands[i][1].text for i in ordered]
    sep = "" if lang == "zh" else " "
    return Composed(sep.join(texts), pool[best_rank], texts)


def extractive_answer(
    question: str,
    passages: list[Passage],
    language: str,
    embed: Embed | None = None,
    max_sentences: int = 3,
    embed_query: Embed | None = None,
) -> str:
    """`compose`'s text: the units of the best passage that answer the question, as plain text."""
    return compose_answer(question, passages, language, embed, embed_query, max_units=max_sentences).text
