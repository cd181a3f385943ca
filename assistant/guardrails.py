"""Cheap, explainable checks on the customer's text: injection attempts, anger, follow-ups."""

from __future__ import annotations

import re

_INJECTION = re.compile(
    r"(?ix)"
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(previous|prior|above|earlier|all|your)\b.{0,30}"
    r"\b(instructions?|rules?|prompts?|polic(y|ies)|guidelines?)\b"
    r"|\b(system|developer)\s*(prompt|message|instructions?)\b"
    r"|^\s*\[?\s*(system|assistant|developer)\s*\]?\s*[:：]"
    r"|\n\s*\[?\s*(system|assistant|developer)\s*\]?\s*[:：]"
    r"|\byou\s+are\s+now\b|\bact\s+as\b.{0,40}\b(unfiltered|jailbr|dan|admin|developer)"
    r"|\bdo\s+anything\s+now\b|\bjailbreak|\bDAN\b|\bdeveloper\s+mode\b"
    r"|\b(reveal|show|print|repeat|leak|tell\s+me)\b.{0,30}\b(prompt|instructions|api[\s_-]?keys?|secrets?|password\s+of|credentials)\b"
    r"|\b(api[\s_-]?key|secret[\s_-]?key|access[\s_-]?token)s?\b"
    r"|</?\s*(script|iframe|img|svg|object)\b|javascript:|\bon(error|load)\s*="
    r"|忽略.{0,10}(之前|以上|前面|所有|先前).{0,10}(指令|指示|规则|提示|设定)"
    r"|(系统|开发者)\s*(提示|指令|消息|prompt)"
    r"|(泄露|告诉我|显示|输出|打印).{0,12}(提示词|系统提示|指令|密钥|api\s*key|内部)"
    r"|你现在是|扮演.{0,10}(没有限制|不受限制|管理员|开发者)|越狱|开发者模式"
    r"|\bpretend(ing)?\b.{0,20}\b(you|to\s+be|you're)\b|\brole[\s-]?play|\bstay\s+in\s+character|\bforget\s+you('re|\s+are)"
    r"|\bnew\s+instructions\b|\bfrom\s+now\s+on\b.{0,40}\b(answer|respond|reply|say|you)\b"
    r"|\brepeat\b.{0,30}\b(above|everything|word\s+for\s+word|verbatim)\b"
    r"|\b(debug|god|admin)\s+mode\b|\bhidden\s+(rules|instructions)\b|\b(full|your)\s+configuration\b"
    r"|\bgenerate\b.{0,25}\b(refund|discount|coupon|promo|gift)\b.{0,10}\bcodes?\b"
    r"|\binternal\b.{0,20}\bcodes?\b|\bpwned\b|\bsafety\s+filters?\b"
    r"|\b(address|order\s+history|phone\s+number|emails?)\b.{0,40}\b(customer|user)\s+with\b"
    r"|\b(list|dump|export)\b.{0,20}\b(every|all)\b.{0,20}\b(customers?|users?)\b"
    r"|假装|角色扮演|不要出戏|别当客服|从现在开始.{0,20}(规则|回答|回复|你)|新规则|原样重复|重复一遍"
    r"|调试模式|隐藏规则|全部配置|(退款|优惠|折扣|礼品卡)码.{0,6}(生成|泄露)|(生成|泄露).{0,12}(退款|优惠|折扣)码"
    r"|内部优惠码|攻破|安全策略|密钥|环境变量|^\s*【?系统】?\s*[:：】]"
    r"|(所有|其他|那个|别的)(用户|顾客|客户).{0,10}(邮箱|手机|地址|订单记录|信息)"
    r"|(用户|顾客|客户)的(收货)?(地址|邮箱|手机号|订单记录)"
)

_NEGATIVE = re.compile(
    r"(?i)\b(terrible|horrible|awful|worst|useless|pathetic|ridiculous|disgusting|unacceptable|scam|fraud|"
    r"furious|outraged|livid|hate|sue|lawyer|garbage|trash|rip[\s-]?off|fed up|sick of|never again)\b"
    r"|垃圾|骗子|诈骗|气死|太差|差劲|恶心|投诉|无语|受够|忍无可忍|坑人|什么破|退钱|要告你们|曝光"
)

_FOLLOW_UP = re.compile(
    r"(?i)^\s*(and|also|what about|how about|but|so|then|ok so|what if)\b"
    r"|\b(it|that|this|those|these|they|them|there|one)\b"
    r"|^(那|还有|那么|然后|另外)|(呢|它|这个|那个|这些|那些)"
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
    """An explicit request for a person ("let me talk to a human", "转人工")."""
    return bool(_HUMAN.search(text))


def looks_like_injection(text: str) -> bool:
    """True for attempts to override instructions, impersonate system lines, extract secrets, or inject markup."""
    return bool(_INJECTION.search(text))


def negativity(text: str) -> float:
    """0..1: how angry the message reads (strong words, shouting, exclamation marks)."""
    hits = len(_NEGATIVE.findall(text))
    letters = [c for c in text if c.isalpha() and c.isascii()]
    shouting = len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7
    exclaims = text.count("!") + text.count("！")
    score = 0.45 * min(hits, 2) + (0.25 if shouting else 0.0) + (0.15 if exclaims >= 2 else 0.0)
    return min(score, 1.0)


def is_follow_up(text: str) -> bool:
    """A short message that leans on the previous one ("and how long does that take?")."""
    words = len(text.split())
    cjk = sum("\u4e00" <= c <= "\u9fff" for c in text)
    short = words <= 9 if cjk == 0 else cjk <= 14
    return short and bool(_FOLLOW_UP.search(text))


def rewrite_follow_up(text: str, previous_question: str | None) -> str:
    """A stand-alone question for retrieval: the previous question's topic joined to the follow-up."""
    if not previous_question or not is_follow_up(text):
        return text
    return f"{previous_question} {text}"
