"""How a message relates to the conversation: an answer to the assistant's offer, a question for contact details.

Both are about the customer's language, not about any one knowledge base: the words are English and Chinese
conversation vocabulary, and the contact data a passage must hold is recognised by its shape (a phone number,
an email address, opening hours).
"""

from __future__ import annotations

import re
from dataclasses import replace

from knowledge import Hit

# What the assistant offered in its last reply; the next message may accept or decline it (and then it lapses).
OFFER_HANDOFF = "handoff"

_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
# English replies to "shall I connect you with a person?": the whole message must be made of these.
_EN_NO = (
    "no thank you|no thanks|no need|not now|not yet|not needed|maybe later|never mind|nevermind|i'm good|"
    "im good|i am good|i'm fine|im fine|i am fine|all good|it's fine|its fine|that's ok|thats ok|"
    "that's okay|thats okay|don't|dont|do not|no|nope|nah|not really"
)
_EN_YES = (
    "yes please|yes|yeah|yea|yep|yup|ya|sure|ok|okay|k|alright|all right|please do|please|go ahead|do it|"
    "of course|definitely|absolutely|certainly|sounds good|that would be great|that'd be great|"
    "that would help|why not|i would|i'd like that|i would like that|connect me|great|perfect|cool"
)
# Politeness that does not change the answer ("yes please, thanks").
_EN_FILLER = "thank you|thanks|thx|ty|pls|plz|very much|so much|a lot|then|and|that|just|oh|well|hmm|right"
_ZH_NO = "不用了|不用|不要了|不要|不需要|不必了|不必|算了|没事了|没事|先不用|暂时不用|不了|不是|不"
_ZH_YES = "好的|好啊|好呀|好吧|好|可以的|可以|是的|是|对的|对|需要|要的|要|嗯嗯|嗯|行|麻烦了|麻烦你了|麻烦您了|当然|没问题|转吧"
_ZH_FILLER = "谢谢你|谢谢您|谢谢|多谢|啦|吧|呀|啊|哈|了|嘛|哦|喔|呢|请|一下"


def _pieces(alternatives: str) -> str:
    # Longest first, so "no thanks" is one piece and "不要" is not read as "要".
    return "|".join(sorted((re.escape(a) for a in alternatives.split("|")), key=len, reverse=True))


_EN_PIECE = re.compile(
    rf"\s*(?:(?P<no>{_pieces(_EN_NO)})|(?P<yes>{_pieces(_EN_YES)})|(?:{_pieces(_EN_FILLER)}))(?![a-z'])\s*"
)
_ZH_PIECE = re.compile(
    rf"(?:(?P<no>{_pieces(_ZH_NO)})|(?P<yes>{_pieces(_ZH_YES)})|(?:{_pieces(_ZH_FILLER)}))"
)


def answer_to_offer(text: str) -> bool | None:
    """True for "yes please" / "好的", False for "no thanks" / "不用了", None when the message is anything else
    (a new question, a longer remark): only a message that is nothing but an answer answers the offer."""
    low = text.lower().replace("’", "'")
    words = re.sub(r"[^\w\s']+", " ", low).split()
    if len(words) > 8:
        return None
    # Each piece is either English words (spaces kept) or Chinese characters (no spaces); punctuation is dropped.
    rest, said = " ".join(words), set()
    position = 0
    while position < len(rest):
        if rest[position] == " ":
            position += 1
            continue
        match = _EN_PIECE.match(rest, position) or _ZH_PIECE.match(rest, position)
        if match is None or match.end() == position:
            return None
        said.update(k for k in ("no", "yes") if match.group(k))
        position = match.end()
    if "no" in said:
        return False
    return True if "yes" in said else None


# -- questions for the company's contact details ------------------------------------------------------------
_OWN_DETAILS = re.compile(
    r"(?i)\b(my|mine)\s+(new\s+|old\s+|current\s+)?(phone|mobile|cell|number|e-?mail|address|contact)"
    r"|\b(change|update|edit|verify|add|remove|reset)\b.{0,30}\b(phone|number|e-?mail|address)"
    r"|我的?.{0,4}(手机|电话|号码|邮箱|地址)|(绑定|更改|修改|更换|换|验证|添加|删除).{0,6}(手机|电话|号码|邮箱|地址)"
)
# Ask for a datum on their own ("what's the phone number", "客服电话").
_CONTACT_STRONG = re.compile(
    r"(?i)\b(phone|telephone|contact|support|service|your)\s*(number|no\.?|line|e-?mail|address|details?|info)\b"
    r"|\b(hotline|helpline|opening\s+hours|business\s+hours|office\s+hours|support\s+hours)\b"
    r"|\bnumbers?\s+(to|for|i\s+can)\s+(call|ring|reach|contact|talk|speak|text)\b"
    r"|电话|热线|联系方式|客服邮箱|营业时间|工作时间|上班时间|服务时间"
)
# Ask for one when they are about the company ("how can I email you", "when is phone support open").
_CONTACT_WEAK = re.compile(
    r"(?i)\b(call|ring|phone|e-?mail|reach|contact)\s+(you|us|your|support|someone|somebody|a\s+person|customer"
    r"|the\s+(team|store|office|shop))\b|\bby\s+(phone|telephone|e-?mail)\b|\bphone\s+support\b|\bhours\b"
    r"|\b(when|what\s+time)\b.{0,40}\bopen\b|邮箱|号码|几点|上班|联系"
)
_COMPANY = re.compile(
    r"(?i)\b(you|your|support|customer\s+(service|care|support)|service|help\s*desk|team|agents?|staff|someone|"
    r"somebody|person|people|human|representatives?|company|office|store)\b|客服|你们|人工|官方|工作人员|公司|商家"
)
_CONTACT_QUERY = {"en": "How to contact customer service:", "zh": "如何联系客服："}
_PHONE = re.compile(
    r"(?<![\w-])\+?\(?\d{1,4}\)?(?:[\s.-]\(?\d{2,4}\)?){2,}(?![\w-])|(?<![\w-])\d{10,12}(?!\d)"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CLOCK = re.compile(
    r"(?i)\b\d{1,2}(:\d{2})?\s*(am|pm|a\.m\.|p\.m\.)|\b\d{1,2}:\d{2}\b|24/7|24\s*小时|\d{1,2}\s*点"
)
_ASKS = {
    "phone": re.compile(r"(?i)\b(phone|telephone|call|ring|number|hotline|helpline)\b|电话|热线|号码|打给"),
    "email": re.compile(r"(?i)\be-?mail\b|邮箱|邮件"),
    "hours": re.compile(r"(?i)\b(hours|open|opening|when|what\s+time)\b|几点|时间|上班|营业|什么时候"),
}
_HOLDS = {"phone": _PHONE, "email": _EMAIL, "hours": _CLOCK}


# A contact word that names a product or service ("phone case", "email marketing", "address labels", "电话手表"):
# followed by a word that is neither a contact datum nor a function word, it is what the customer wants, not
# how to reach the company. Such uses are blanked out before the contact patterns are tried.
_CONTACT_WORD = r"phone|telephone|e-?mail|address|contact|hotline|helpline"
_AFTER_CONTACT_WORDS = (
    "number numbers no line lines support hours hour details detail info information address addresses email "
    "e-mail call calls customer service team agent agents staff desk center centre someone somebody person "
    "you your us me them him her it the a an to for of on at in by with from or and but is are was be do does "
    "can could will would should if when what where which who how so then open opening available please "
    "i we they there that this now today still again just directly"
)
_AFTER_CONTACT_WORD = frozenset(_AFTER_CONTACT_WORDS.split())
_PRODUCT_USE_EN = re.compile(rf"(?i)\b(?:{_CONTACT_WORD})\s+([a-z][a-z'-]+)")
# 电话 before a noun of its own (电话手表 a phone watch, 电话卡 a SIM card): a product; 电话 before these is contact.
_PRODUCT_USE_ZH = re.compile(
    r"电话(?=[^号码是多少怎么几呢吗啊呀吧打给联在和或还也有客服人工咨询热线么能可会要请时到服找通过\s\W])"
)


def _without_product_uses(text: str) -> str:
    text = _PRODUCT_USE_EN.sub(
        lambda m: m.group(0) if m.group(1).lower() in _AFTER_CONTACT_WORD else " ", text
    )
    return _PRODUCT_USE_ZH.sub(" ", text)


def asks_for_contact_details(text: str) -> bool:
    """A question for the company's phone number, email address or hours ("what's your phone number",
    "你们客服电话多少"), not about the customer's own details ("change my phone number") nor about a product
    named like a contact word ("do you sell phone cases?", "有电话手表吗")."""
    if _OWN_DETAILS.search(text):
        return False
    text = _without_product_uses(text)
    return bool(_CONTACT_STRONG.search(text) or (_CONTACT_WEAK.search(text) and _COMPANY.search(text)))


def contact_query(text: str, language: str) -> str:
    """The retrieval query for a contact question: "my phone number" alone finds the profile page first."""
    return f"{_CONTACT_QUERY.get(language, _CONTACT_QUERY['en'])} {text}"


def contact_data_asked(text: str) -> list[str]:
    """Which data the question wants ("phone", "email", "hours"); all of them when it says only "contact"."""
    asked = [kind for kind, pattern in _ASKS.items() if pattern.search(text)]
    return asked or list(_ASKS)


def holds_contact_data(passage: str, asked: list[str]) -> bool:
    """True when the passage itself states one of the asked data (a phone number, an address, clock hours);
    hours count only when nothing else was asked (an order cut-off time is no contact page)."""
    wanted = [kind for kind in asked if kind != "hours"] or asked
    return any(_HOLDS[kind].search(passage) for kind in wanted)


_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|(?<=[。！？；])")  # not inside "support@kestrel.example"


def contact_lines(passage: str, asked: list[str]) -> str:
    """Only the sentences and table rows of a passage that state the asked data (a table row keeps its
    table's header, which names its columns): "Still need help? Call 1-800-…" ends many articles, and the
    rest of such a passage is about something else."""
    wanted = [_HOLDS[kind] for kind in ([k for k in asked if k != "hours"] or asked)]
    kept: list[str] = []
    header: list[str] = []
    for line in passage.splitlines():
        if line.lstrip().startswith("|"):
            if not header or (len(header) == 1 and not line.strip("|-: ")):
                header.append(line)  # the header row, then its |---| rule
            elif any(p.search(line) for p in wanted):
                kept.extend([*header, line] if header[0] not in kept else [line])
            continue
        header = []
        sentences = [s for s in _SENTENCE_END.split(line) if s.strip()]
        kept.extend(s for s in sentences if any(p.search(s) for p in wanted))
    return "\n".join(kept)


def contact_hits(found: list[Hit], text: str, limit: int = 1) -> list[Hit]:
    """The best retrieved passages that state the contact data the question asks for (by default the one
    the answer quotes and cites: a contact page ranks first for the contact query), cut to the sentences and
    rows that state them; none: the knowledge base does not say, and the question goes the ordinary way."""
    asked = contact_data_asked(text)
    kept = [replace(h, text=contact_lines(h.text, asked)) for h in found if holds_contact_data(h.text, asked)]
    return [h for h in kept if h.text][:limit]
