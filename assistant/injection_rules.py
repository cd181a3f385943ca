"""The text side of prompt-injection detection: normalising obfuscated text, the high-precision hard rules and
the cue flags the classifier in `assistant.injection` reads."""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata

import numpy as np

# ----------------------------------------------------------------------------------------- normalising
_TRAD = str.maketrans(
    "請統詞顯訴沒員碼規則設開發隱洩輸鑰從現說話對這個們麼為無視條戶帳號優給裡關閉應該權限製產資訊"
    "據庫環變數臺軟體測試講讓處聽記憶錄憑證單價錢儲值禮卡劵劃戲扮演後臺覽標籤腳",
    "请统词显诉没员码规则设开发隐泄输钥从现说话对这个们么为无视条户账号优给里关闭应该权限制产资讯"
    "据库环变数台软体测试讲让处听记忆录凭证单价钱储值礼卡券划戏扮演后台览标签脚",
)
_LEET = str.maketrans("01345789@$", "oieastbgas")
_SPACED = re.compile(r"(?<!\w)[^\W\d_](?P<sep>[ .\-_*])(?:[^\W\d_](?P=sep)){1,}[^\W\d_](?!\w)")
_HYPHENATED = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])[ \t\u3000\-_.*]+(?=[\u3400-\u9fff])")
_B64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_TOKEN = re.compile(r"[a-z0-9]+")
_LETTER_DIGIT, _DIGIT_LETTER = re.compile(r"[a-z]\d"), re.compile(r"\d[a-z]")


def _deleet(word: re.Match[str]) -> str:
    w = word.group(0)
    digits = sum(c.isdigit() for c in w)
    letters = len(w) - digits
    if not digits or letters < 2:
        return w
    # heavy leet ("5y573m", "1n57ruc710n5") interleaves digits and letters; a code like "mu5137" does not
    interleaved = _LETTER_DIGIT.search(w) and _DIGIT_LETTER.search(w) and digits <= letters + 2
    return w.translate(_LEET) if digits < letters or interleaved else w


def _decoded_payloads(text: str) -> list[str]:
    out = []
    for blob in _B64.findall(text):
        try:
            raw = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if raw.isprintable() and sum(c.isalpha() for c in raw) >= len(raw) // 2:
            out.append(raw)
    return out


def normalise(text: str) -> str:
    """The message as an attacker meant it to be read: one case, one script, no spacing or leet tricks."""
    t = unicodedata.normalize("NFKC", text).translate(_TRAD)
    t = " ".join([t, *_decoded_payloads(t)])
    t = _SPACED.sub(lambda m: m.group(0).replace(m.group("sep"), ""), t)
    t = _HYPHENATED.sub("", t)
    t = _CJK_GAP.sub("", t)
    return _TOKEN.sub(_deleet, t.lower())


# ----------------------------------------------------------------------------------------- hard rules
_OWNERS = r"(?:your|all|any|every|the\s+above|previous|prior|above|earlier|preceding|initial|original|system|these|those)"
_RULES = r"(?:instructions?|rules|prompts?|guidelines|directives|programming|restrictions|system\s+prompt)"
_HARD: list[tuple[str, re.Pattern[str]]] = [
    (
        "markup",
        re.compile(
            r"<\s*/?\s*(?:script|iframe|img|svg|object|embed|style|body|link|meta|form|input|base|math)\b"
            r"|<\s*a\s+[^>]*href|javascript\s*:|vbscript\s*:|data\s*:\s*text/html"
            r"|\bon[a-z]{3,12}\s*=\s*['\"]?[\w(]"
            r"|['\"`]\s*;\s*(?:drop|delete|insert|update|select|truncate|alter)\b|\bunion\s+(?:all\s+)?select\b"
            r"|\{\{[^}]*\}\}|\$\{[^}]*\}|<%.*?%>"
        ),
    ),
    (
        "chat-format tokens",
        re.compile(
            r"<\|[a-z_]{2,20}\|>|\[/?inst\]|<<\s*/?sys\s*>>"
            r"|[\"']role[\"']\s*:\s*[\"'](?:system|assistant|developer)[\"']"
            r"|<\s*/?\s*(?:system|assistant|developer)\s*>"
        ),
    ),
    (
        "fake system line",
        re.compile(
            r"(?:^|\n)\s*[\[【(#*=<]*\s*(?:system|developer|admin(?:istrator)?|assistant|系统|开发者|管理员|助手)"
            r"(?:\s*(?:message|note|notice|override|消息|通知|公告|备注))?\s*[\]】)#*=>]*\s*[:：】\]]"
            r"|【\s*(?:系统|管理员|开发者)[^】]{0,6}】|#{2,}\s*(?:admin|system|new\s+instructions)"
        ),
    ),
    (
        "instruction override",
        re.compile(
            rf"\b(?:ignore|disregard|forget|override|bypass|discard)\b(?:\W+\w+){{0,3}}?\W+{_OWNERS}"
            rf"(?:\W+\w+){{0,3}}?\W+{_RULES}\b"
            rf"|\b(?:ignore|disregard|forget|discard)\W+(?:the\W+|your\W+|all\W+)?{_RULES}\W+(?:above|before|so\s+far)\b"
            r"|(?:忽略|无视|忘掉|忘记|不要理会|别管|抛开|绕过|不要再遵守|不再遵守)"
            r".{0,8}(?:之前|以上|上面|前面|先前|所有|全部|你的|系统|旧).{0,8}"
            r"(?:指令|指示|规则|设定|提示|限制|规定|要求)"
            # the same, mixing the two languages ("忽略 previous instructions")
            rf"|(?:忽略|无视|忘掉|忘记)\s*(?:the\s+|all\s+)?{_OWNERS}\W+{_RULES}\b"
            r"|\b(?:ignore|disregard|forget)\s*(?:之前|以上|上面|前面|所有|你的)的?\s*(?:指令|指示|规则|设定|提示)"
        ),
    ),
]


def hard_rule(text: str) -> str | None:
    """The name of the first hard rule the (normalised) text breaks, or None."""
    t = normalise(text)
    for name, pattern in _HARD:
        if pattern.search(t):
            return name
    return None


# ----------------------------------------------------------------------------------------- cue flags
CUES: list[re.Pattern[str]] = [
    # gives the assistant a new identity: "you are now", "pretend you are", "请扮演", "你不再是"
    re.compile(
        r"\byou\s+are\s+now\s+(?:a|an|my|in|called|named|free|dan)\b|\byou'?re\s+now\s+(?:a|an|my|in)\b"
        r"|\bfrom\s+now\s+on,?\s+you\b|\bact\s+as\s+(?:a|an|my|if)\b|\bpretend\s+you"
        r"|(?:^|[.!?,;:]\s*|\b(?:you|please|now|just|can\s+you|could\s+you|i\s+want\s+you\s+to)\s+)pretend\s+to\s+be"
        r"|\brole-?\s?play(?:ing)?\s+as\b|\bstay\s+in\s+character\b|\byou\s+are\s+no\s+longer\b"
        r"|\byou'?re\s+not\s+an?\b.{0,30}\bany\s*more\b|\bimagine\s+you\b|\bhypothetically\b|\blet'?s\s+play\b"
        r"|你现在(?:是|变成)(?:一个|一名|我的|[a-z])|从现在(?:开始|起)你|(?:请|你|来)扮演|扮演(?:一个|一名|我|你)"
        r"|假装你|你不再是|保持.{0,8}角色|想象你|假设你|来玩个?游戏"
    ),
    # the assistant's own rules, prompt or configuration
    re.compile(
        r"\byour\s+(?:own\s+)?(?:system\s+|initial\s+|original\s+|hidden\s+|secret\s+|internal\s+|full\s+)?"
        r"(?:prompt|instructions|rules|guidelines|configuration|programming|restrictions|settings)\b"
        r"|\bthe\s+(?:system|initial|original|hidden|secret|internal)\s+(?:prompt|instructions|rules)\b"
        r"|\bwere\s+you\s+(?:told|given)|\byou\s+were\s+(?:told|given)|\bwhich\s+model\s+are\s+you"
        r"|(?:你的|你收到的).{0,4}(?:提示词|指令|规则|设定|配置|限制)|隐藏规则|内部指令|你用的是什么模型"
    ),
    # secrets and credentials of the service itself
    re.compile(
        r"\b(?:api|secret|private|signing|access)\s+keys?\s+you\b|\byour\s+(?:api\s+|secret\s+)?keys?\b|\.env(?![a-z])"
        r"|environment\s+variables|connection\s+string|credentials|\badmin\s+password|\bmaster\s+(?:code|password|key|voucher)"
        r"|环境变量|连接字符串|管理员密码|万能|你的.{0,6}(?:密钥|密码)|账号密码|(?:用的|使用的)(?:密钥|密码|凭证)"
    ),
    # someone else's data
    re.compile(
        r"\b(?:customers?|users?|person|people|subscribers?)\s+(?:who|that|with)\b|\bother\s+(?:customers|users|people)"
        r"|\b(?:all|every|full)\s+(?:the\s+)?(?:customers?|users?|subscribers?)\b|\bcustomer\s+list\b"
        r"|\b(?:neighbou?r|wife|husband|friend|someone\s+else|ex)'s\s+(?:account|balance|password|pin|address|orders?"
        r"|transactions|details|data|email|phone|card)\b|\b(?:his|her|their)\s+(?:account\s+|home\s+|billing\s+|email\s+)?(?:balance|password|pin|address|transactions|history)\b"
        r"|(?:其他|所有|别的|那个|其它)(?:用户|客户|顾客|人)|下单人|(?:邻居|老婆|老公|朋友|别人)(?:的|那个|那张).{0,10}(?:余额|密码|地址|记录|账户)"
        r"|(?:他|她)的(?:余额|密码|地址|通话|交易|订单)"
        r"|\b(?:address|phone\s+number|email|balance|transactions|order\s+history|password|pin)\b.{0,30}"
        r"\b(?:on\s+file\s+for(?!\s+(?:me|my|us|our)\b)|registered\s+to(?!\s+(?:me|my|us|our)\b)|linked\s+to(?!\s+(?:me|my|us|our)\b)|belonging\s+to|of\s+the\s+(?:customer|user|person|account))\b"
        r"|\b(?:previous|last|other)\s+(?:person|customer|user|caller)\b|\bbefore\s+me\b|\b(?:their|his|her)\s+messages\b"
        r"|\b(?:orders?|customers?|users?|accounts?)\s+table\b|\bdatabase\b"
        r"|(?:\d{5,}|@[\w.]+)\s*(?:这个账户|账户)?(?:登记|绑定|注册)的.{0,6}(?:住址|地址|手机|邮箱|姓名|余额)|上一个.{0,8}(?:人|客户|用户)|别人的|(?:哪些|其他|别的)(?:用户|客户)"
        r"|(?:客户|用户)(?:名单|列表)|(?:订单|用户|客户)表|数据库|(?:所有|全部|其他)\S{0,6}(?:用户|客户|顾客)的"
    ),
    # minting codes, vouchers, keys or card numbers
    re.compile(
        r"\b(?:generate|make\s+up|invent|create|produce|issue|write)\b.{0,40}\b(?:(?:coupon|promo|discount|voucher|gift\s*card"
        r"|refund|licen[cs]e|activation|unlock|staff|internal)\s+(?:codes?|keys?|numbers?)|coupons?|vouchers?|card\s+numbers?)\b"
        r"|\bunlock\s+code\b.{0,30}\bany\b"
        r"|\b(?:valid|working|unused)\b.{0,30}\b(?:codes?|coupons?|vouchers?|keys?|card\s+numbers?)\b"
        r"|(?:生成|编一个|编造|创建|写一个|发一张).{0,20}(?:优惠码|折扣码|促销码|激活码|授权码|解锁码|券|卡号|礼品卡)"
        r"|(?:可用|能用|有效|没用过)的.{0,10}(?:码|券|卡号)"
        r"|\b(?:internal|staff|employee|partners?|master|secret|reserved|admin)\b.{0,20}\b(?:codes?|coupons?|vouchers?|discounts?)\b"
        r"|(?:内部|员工|合作伙伴|万能|隐藏).{0,8}(?:码|券|折扣)"
    ),
    # "no rules", "unrestricted", "bypass": asks for the limits to go
    re.compile(
        r"\bno\s+(?:rules|restrictions|limits|filters)\b|\bunrestricted\b|\bunfiltered\b|\bwithout\s+(?:any\s+)?"
        r"(?:rules|restrictions|limits)\b|\bbypass\b|\bfreed\s+from\b|\bnever\s+refuse\b|\bdo\s+anything\s+now\b|\bdan\b"
        r"|(?:没有|不受|无)(?:任何)?(?:限制|规则)|无过滤|绕过|永远不要拒绝"
        r"|\byou\s+(?:don'?t|do\s+not|no\s+longer|won'?t)\s+(?:need\s+to\s+|have\s+to\s+)?(?:follow|obey|comply|check)"
        r"|\bignore\s+(?:all\s+)?(?:content|safety)|\b(?:safety|security)\s+(?:checks?|filters?)\s+(?:are\s+)?(?:disabled|off)"
        r"|(?:不用|不必|无需|不需要|不再)(?:遵守|检查|理会)|安全检查已关闭|风控已(?:暂停|关闭)"
    ),
    # overrides the rules or the conversation so far ("the guidelines are cancelled", "新指令", "对话结束")
    re.compile(
        r"\b(?:ignore|disregard|forget|override|discard)\b(?:(?!\b(?:i|my|me|we|our)\b).){0,20}"
        r"\b(?:above|previous|prior|earlier|everything)\b"
        # "ignore the previous letter / reminder / booking request": the customer's own mail, not the rules
        r"(?!\s+(?:messages?|questions?|e-?mails?|one|orders?|letters?|reminders?|notices?|bills?|invoices?|forms?"
        r"|requests?|bookings?|readings?|photos?|numbers?|address|texts?|sms|calls?|notes?|complaints?|replies|reply))"
        r"|\b(?:guidelines|rules|instructions|policy|policies)\s+(?:are|is)\s+(?:cancel+ed|outdated|void|over)"
        r"|\bno\s+longer\s+appl|\bnew\s+(?:system\s+prompt|instructions|rules?)\s*:|\bend\s+of\s+(?:conversation|prompt)\b"
        r"|(?:无视|忽略|忘掉|不管)(?:了)?(?:以上|上面|之前|所有|全部)|(?:规则|设定|指令|政策).{0,4}(?:作废|过期|失效|不适用)"
        r"|新(?:指令|规则|的系统提示)\s*[:：是]|对话结束"
    ),
    # claims to be the operator: "I am your administrator", "message from your developers"
    re.compile(
        r"\b(?:i\s+am|i'm|this\s+is)\s+(?:your|the)\s+(?:admin(?:istrator)?|developer|creator|owner|operator"
        r"|it\s+(?:security\s+)?team|security\s+team)\b|\b(?:message|note)\s+from\s+(?:your|the)\s+(?:developers?|admins?|system)"
        r"|\bdeveloper\s+note\b"
        # staff of the operator's own back office: the usual pretext for keys, tokens and overrides
        r"|\b(?:i'?m|i\s+am|i\s+work)\s+(?:from|in|with|on)\s+(?:the\s+)?(?:it|tech(?:nical)?|security|compliance"
        r"|engineering|head\s+office|ops)\b|\b(?:it|security|compliance|head\s+office)\s+(?:team|department)\s+here\b"
        r"|我是(?:你的|这个机器人的|系统)(?:管理员|开发者|开发人员|主人)|这里是.{0,6}(?:安全部门|it部门)"
        r"|来自(?:开发|管理).{0,4}(?:团队|部门)的?通知|开发人员备注"
        r"|我是.{0,6}(?:技术部|安全部|信息科|信息部|运维|合规部|it部)"
    ),
    # transform-and-obey and dump requests
    re.compile(
        r"\b(?:decode|reverse|translate)\b.{0,60}\b(?:follow|do|obey|execute)\b"
        r"|\b(?:repeat|print|output|reveal|quote|spell\s+out|paste|summari[sz]e|dump)\b.{0,40}"
        r"\b(?:everything|above|prompt|instructions|rules|hidden|configuration)\b"
        r"|照做|原样|逐字|(?:输出|打印|重复|显示|列出|总结).{0,12}(?:上面|隐藏|提示词|指令|规则|配置|全部)"
    ),
]


# Extra signs of risk for the middle band only (not classifier features): the assistant's prompt named by
# anyone, codes reserved for a closed group, and "complete / continue" aimed at rules or a prompt.
_RISK = re.compile(
    r"\bsystem\s+prompt|\bhidden\s+(?:instructions|rules|settings)|提示词|隐藏(?:设定|指令|规则)"
    r"|\b(?:reserved|only)\s+for\s+(?:partners|staff|employees|agents|insiders|members)\b"
    r"|\b(?:codes?|coupons?|vouchers?|pins?|keys?)\b.{0,40}\b(?:reserved|only)\s+for\b"
    r"|\b(?:complete|continue|finish|fill\s+in)\b.{0,60}\b(?:rules|instructions|prompt|configuration|setup)\b"
    r"|(?:补全|续写|接着写|往下写|填空).{0,30}(?:规则|指令|提示|设定|配置)"
    r"|(?:专用|专属|内部).{0,6}(?:码|代码|券)"
)


def risky(text: str) -> bool:
    """Any cue flag or extra risk sign: a message the middle band should not answer from the KB."""
    t = normalise(text)
    return bool(cue_vector(t).any() or _RISK.search(t))


def cue_flags(text: str) -> np.ndarray:
    """One 0/1 per cue, on the normalised text."""
    return cue_vector(normalise(text))


def cue_vector(normalised: str) -> np.ndarray:
    return np.array([1.0 if c.search(normalised) else 0.0 for c in CUES], dtype=np.float32)
