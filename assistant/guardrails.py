"""Cheap, explainable checks on the customer's text: injection attempts, anger, follow-ups."""

from __future__ import annotations

import re
from collections.abc import Callable

from assistant.dialogue import asks_for_contact_details
from assistant.injection import looks_like_injection  # noqa: F401  (re-exported: the detector lives there)

_NEGATIVE = re.compile(
    r"(?i)\b(terrible|horrible|awful|worst|useless|pathetic|ridiculous|disgusting|unacceptable|scam|fraud|"
    r"furious|outraged|livid|hate|sue|lawyer|garbage|trash|rip[\s-]?off|fed up|sick of|never again)\b"
    r"|垃圾|骗子|诈骗|气死|太差|差劲|恶心|投诉|无语|受够|忍无可忍|坑人|什么破|退钱|要告你们|曝光"
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A message leans on the previous question when it continues it ("and ...", "what about ...", "那……", "……呢")
# or points back with a bare pronoun ("how long does that take?"), not when a demonstrative has a noun of its
# own ("is this laptop in stock") or the pronoun is only grammar ("how long does it take to get a refund",
# which the retrieval check in `rewrite_follow_up` lets stand alone).
_CONTINUES = re.compile(
    r"(?i)^\W*((ok|okay|right|great|thanks|cool|alright|well|hmm|oh)\W+)?"
    r"(and|also|plus|but|so|then|or|what about|how about|what if)\b"
    r"|^\W*(那么|那|还有|然后|另外)|呢\W*$"
)
_PRONOUN = re.compile(
    r"(?i)\b(it|its|it's|they|them|their|they're)\b|\b(the|this|that|which|another|other)\s+(\w+\s+)?ones?\b"
    r"|它|(这|那)样|(这|那)(个|些|款|种|件|台|部)(?=$|[^\u4e00-\u9fff]|[怎多能可要是会有呢吗的还也就才得该在几什哪不没算])"
)
_DEMONSTRATIVE = re.compile(r"(?i)\b(this|that|these|those)\b('s|’s)?(\s+([a-z']+))?")
# Words after "this/that" that leave it a bare reference ("is that covered", "does this include"): not a noun.
_NOT_A_NOUN = _words(
    "is was are were be been do does did will would can could should may might must has have had take takes "
    "cost costs mean means include includes work works apply applies happen happens cover covers count counts "
    "last lasts help helps too also as for to in on at with of by if and or but please again still then not "
    "isn't doesn't won't wasn't"
)
_QUESTION = re.compile(
    r"(?i)[?？]|\b(what|what's|how|how's|when|where|why|which|who|whose)\b"
    r"|^\W*(can|could|do|does|did|is|are|will|would|should|may|am)\b"
    r"|吗|呢|多少|多久|怎么|什么|哪|几|是否|能不能|可不可以|会不会|有没有|要不要"
)
# Words that name no topic: grammar and the vocabulary of any question ("how much does it cost").
_NO_TOPIC = _words(
    "a an the and or but if so then than too also as at by for from in into of on to with about again still "
    "just only really actually exactly usually even ever yet else more most much many long little few "
    "i me my mine you your yours we us our they them their it its it's this that these those there here "
    "one ones same other another what what's how how's when where why which who whose whom "
    "is am are was were be been being do does did done will would can could should shall may might must "
    "has have had having not no yes ok okay please thanks thank great good fine cool perfect sure "
    "take takes taking took cost costs costing price prices time times way ways work works get gets getting "
    "got need needs want wants like know tell say said mean means happen happens possible help "
    "isn't doesn't don't won't can't wasn't aren't that's there's i'm i'd i'll you're they're "
    "case well wait hmm oh right then what if"
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_CJK_NO_TOPIC = frozenset(
    "我你您他她它们的了吗呢吧啊呀是在和与就都也还要想请问帮怎么样办什如何可以能个一这那有没给让把被"
    "多久少钱时间长会行得再又下点些该么嘛哪几谁"
)


_HUMAN = re.compile(
    r"(?i)\b(talk|speak|chat|connect\s+me|put\s+me\s+through|transfer\s+me)\b.{0,25}\b(human|person|agent|"
    r"representative|rep|someone|somebody|operator|manager|supervisor|staff)\b"
    r"|\b(real|live|actual)\s+(person|human|agent)\b|\b(get|give|want|need)\s+(me\s+)?(a|an|the)?\s*"
    r"(human|person|agent|representative|manager|supervisor|customer\s+service\s+agent)\b"
    r"|^\s*(agent|human|representative|operator)[\s!.?]*$"
    r"|转人工|人工客服|人工服务|真人|找客服|叫你们(经理|主管)|我要投诉你们|客服人员"
)


def asks_for_human(text: str) -> bool:
    """An explicit request for a person now ("let me talk to a human", "转人工"); a question about how to
    reach one ("what's the number to talk to a person?") is answered from the knowledge base instead."""
    return bool(_HUMAN.search(text)) and not asks_for_contact_details(text)


def negativity(text: str) -> float:
    """0..1: how angry the message reads (strong words, shouting, exclamation marks)."""
    hits = len(_NEGATIVE.findall(text))
    letters = [c for c in text if c.isalpha() and c.isascii()]
    shouting = len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7
    exclaims = text.count("!") + text.count("！")
    score = 0.45 * min(hits, 2) + (0.25 if shouting else 0.0) + (0.15 if exclaims >= 2 else 0.0)
    return min(score, 1.0)


def _refers_back(text: str) -> bool:
    """A bare pronoun: "it", "that one", "is that covered?", "这个多少钱", not "this laptop"."""
    if _PRONOUN.search(text):
        return True
    for m in _DEMONSTRATIVE.finditer(text):
        after = (m.group(4) or "").lower()
        # "that's", "is that covered?", "does this include ...": no noun of its own follows.
        if m.group(2) or not after or after in _NOT_A_NOUN or (len(after) > 4 and after.endswith("ed")):
            return True
    return False


def topic_words(text: str) -> int:
    """How many words of the message name a topic of its own (CJK: two characters make a word)."""
    low = text.lower().replace("’", "'")
    words = [w.strip("'-") for w in re.findall(r"[a-z][a-z'-]*", _CJK.sub(" ", low))]
    english = sum(1 for w in words if len(w) > 1 and w not in _NO_TOPIC)
    return english + sum(1 for c in _CJK.findall(text) if c not in _CJK_NO_TOPIC) // 2


def is_follow_up(text: str) -> bool:
    """A short message that leans on the previous one: it continues it or points back with a pronoun, and is
    a question or names something ("and how long does that take?", "那要多久呢", "and the blue one"), not
    an acknowledgement ("that's great, thanks")."""
    cjk = len(_CJK.findall(text))
    short = len(text.split()) <= 15 if cjk == 0 else cjk <= 20
    if not short or not (_CONTINUES.search(text) or _refers_back(text)):
        return False
    return bool(_QUESTION.search(text)) or topic_words(text) > 0


def rewrite_follow_up(
    text: str, previous_question: str | None, stands_alone: Callable[[str], bool] | None = None
) -> str:
    """A stand-alone question for retrieval: the previous question joined to a follow-up.

    `stands_alone(text)`: whether the message retrieves confidently by itself. A follow-up that names a topic
    of its own and does is a new question, so an earlier question cannot pull it off course; a fragment
    ("and express?", "运费呢") always borrows the previous question, whatever its words match alone.
    """
    if not previous_question or not is_follow_up(text):
        return text
    cjk = len(_CJK.findall(text))
    fragment = bool(_CONTINUES.search(text)) and (len(text.split()) <= 4 if cjk == 0 else cjk <= 6)
    if stands_alone is not None and not fragment and topic_words(text) > 0 and stands_alone(text):
        return text
    return f"{previous_question} {text}"
