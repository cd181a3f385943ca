"""Fixed replies the runtime says itself, per language."""

from __future__ import annotations

_TEXTS: dict[str, dict[str, str]] = {
    "refuse": {
        "en": "I can only help with questions about Kestrel orders, deliveries, returns, payments, accounts, "
        "warranty and membership, and I can't change how I work or share internal information. "
        "What can I help you with?",
        "zh": "我只能解答关于 Kestrel 订单、配送、退换货、支付、账户、保修和会员的问题，"
        "无法更改我的工作方式或提供内部信息。请问有什么可以帮您？",
    },
    "fallback": {
        "en": "I'm sorry, I couldn't find anything about that in our help centre, so I'd rather not guess. "
        "Would you like me to connect you with a member of our support team?",
        "zh": "抱歉，我在帮助中心里没有找到相关内容，不想随便猜测。需要我为您转接人工客服吗？",
    },
    "handoff": {
        "en": "I'm connecting you with a member of our support team. An agent will reply here shortly "
        "(live chat: daily 8:00 am – 10:00 pm ET).",
        "zh": "正在为您转接人工客服，客服人员会尽快在这里回复您（在线客服时间：每天美东时间 8:00–22:00）。",
    },
    # Asked after an answer the customer might still want a person for (contact details); "yes" hands off.
    "offer_person": {
        "en": "Would you like me to connect you with a member of our support team here?",
        "zh": "需要我现在为您转接人工客服吗？",
    },
    "offer_declined": {
        "en": "No problem. Is there anything else I can help you with?",
        "zh": "好的，那就不为您转接了。还有什么可以帮您的吗？",
    },
    "handoff_waiting": {
        "en": "Your conversation is with our support team now; an agent will answer here shortly.",
        "zh": "您的对话已转给人工客服，客服人员会尽快在这里回复您。",
    },
    # Sent in the agent's name when the agent closes a handed-off conversation.
    "handoff_closed": {
        "en": "Thank you for chatting with us. This conversation with our support team is now closed; if you "
        "write again, our assistant will answer, and you can ask for a person at any time.",
        "zh": "感谢您的咨询。本次人工客服对话已结束；如果您再发送消息，将由智能助手回复，您随时可以要求转接人工客服。",
    },
    "clarify": {
        "en": "Just to be sure I help with the right thing: is your question about {a} or about {b}?",
        "zh": "为了更准确地帮助您：您想咨询的是「{a}」还是「{b}」？",
    },
    "other_language": {
        "en": "(I only found this in {lang}.) ",
        "zh": "（以下内容目前只有{lang}版本。）",
    },
    "empty_generation": {
        "en": "Here is what our help centre says:",
        "zh": "帮助中心的相关说明如下：",
    },
    # A message sent while the server starts: its reply's place shows how far along it is (the chat page).
    "getting_ready": {
        "en": "Getting ready… {stage} ({percent} %)",
        "zh": "正在准备…{stage}（{percent}%）",
    },
    "getting_ready_gave_up": {
        "en": "Sorry, I'm still starting up and can't answer yet. Please send your question again in a few "
        "minutes.",
        "zh": "抱歉，我还在启动中，暂时无法回答。请过几分钟再发送一次您的问题。",
    },
    # The stages of assistant.startup (STAGES, and "starting" before the first), as "getting_ready" names them.
    "stage: starting": {"en": "starting", "zh": "正在启动"},
    "stage: preparing the home": {"en": "preparing the data folder", "zh": "准备数据目录"},
    "stage: loading the knowledge base": {"en": "loading the knowledge base", "zh": "加载知识库"},
    "stage: adding the demo knowledge base": {"en": "adding the demo knowledge base", "zh": "添加演示知识库"},
    "stage: loading the intent model": {"en": "loading the question classifier", "zh": "加载问题分类模型"},
    "stage: loading the generator": {"en": "loading the answer writer", "zh": "加载回复生成模型"},
    "stage: warming up": {"en": "warming up", "zh": "预热"},
    "stage: ready": {"en": "ready", "zh": "就绪"},
}

KEYS = frozenset(_TEXTS)

_LANGUAGE_NAMES = {
    "en": {"en": "English", "zh": "英文"},
    "zh": {"en": "Chinese", "zh": "中文"},
}


def text(key: str, language: str, **values: str) -> str:
    """The fixed reply `key` in `language` (English when we have no translation)."""
    variants = _TEXTS[key]
    template = variants.get(language, variants["en"])
    return template.format(**values) if values else template


def language_name(code: str, in_language: str) -> str:
    names = _LANGUAGE_NAMES.get(code, {})
    return names.get(in_language, names.get("en", code))
