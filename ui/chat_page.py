"""The customer chat page (Gradio), mounted at `/`."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import gradio as gr

from assistant.feedback import rate
from assistant.pipeline import Assistant, InputError
from assistant.schema import ChatReply

_TITLE = "Kestrel Home & Tech · Help"
_SOURCES = {"en": "Sources", "zh": "来源"}
_AGENT = {"en": "Support agent", "zh": "人工客服"}
AGENT_POLL_S = 3.0


def format_reply(reply: ChatReply) -> str:
    """The reply as Markdown with its sources listed under it (escaped: replies are not trusted HTML)."""
    text = html.escape(reply.reply, quote=False)
    if not reply.sources:
        return text
    label = _SOURCES.get(reply.language, _SOURCES["en"])
    items = []
    for s in reply.sources:
        title = html.escape(s.title, quote=False)
        uri = s.uri if s.uri.startswith(("http://", "https://")) else ""
        items.append(f"- [{title}]({uri})" if uri else f"- {title}")
    return f"{text}\n\n**{label}:**\n" + "\n".join(items)


def format_agent_message(text: str, language: str | None) -> str:
    """A person's reply, labelled so the customer can tell it from the bot's (escaped like bot replies)."""
    label = _AGENT.get(language or "en", _AGENT["en"])
    return f"**{label}:** {html.escape(text, quote=False)}"


def build_chat_page(assistant: Assistant) -> gr.Blocks:
    """A chat with streaming replies, their sources, and thumbs up/down."""

    def respond(
        message: str, history: list[dict[str, Any]], session_id: str | None, ids: dict[int, str]
    ) -> Iterator[tuple[str, list[dict[str, Any]], str | None, dict[int, str]]]:
        message = message or ""
        try:
            assistant.validate_message(message)
        except InputError as exc:
            gr.Warning(str(exc))
            yield message, history, session_id, ids
            return
        history = [*history, {"role": "user", "content": message}, {"role": "assistant", "content": "…"}]
        yield "", history, session_id, ids
        draft = ""
        for kind, value in assistant.chat_stream(message, session_id):
            if kind == "token":
                draft += value
                history[-1] = {"role": "assistant", "content": html.escape(draft, quote=False)}
            elif kind == "final":
                history[-1] = {"role": "assistant", "content": format_reply(value)}
                session_id = value.session_id
                ids = {**ids, len(history) - 1: value.message_id}
            else:
                history[-1] = {
                    "role": "assistant",
                    "content": "Sorry, something went wrong. Please try again.",
                }
            yield "", history, session_id, ids

    def thumbs(data: gr.LikeData, ids: dict[int, str]) -> None:
        """Thumbs up/down on a bot reply: stored like POST /v1/feedback (review queue, webhooks)."""
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        message_id = ids.get(int(index)) if index is not None else None
        rating = {True: "up", "Like": "up", False: "down", "Dislike": "down"}.get(data.liked)
        if message_id is None or rating is None:
            return  # an agent's message, or a rating taken back
        rate(assistant, message_id, rating)

    with gr.Blocks(title=_TITLE, analytics_enabled=False) as page:
        gr.Markdown(
            f"## {_TITLE}\nAsk about orders, delivery, returns, payments, your account, warranty… "
            "in English or 中文."
        )
        session = gr.State(None)
        reply_ids = gr.State({})  # chat index of each bot reply -> its message_id, for the thumbs
        chatbot = gr.Chatbot(
            elem_id="chat", height=480, label="Chat", sanitize_html=True, feedback_options=("Like", "Dislike")
        )
        with gr.Row():
            box = gr.Textbox(
                elem_id="message",
                placeholder="Type your question… / 请输入您的问题…",
                show_label=False,
                scale=8,
                max_length=assistant.settings.max_message_chars,
            )
            send = gr.Button("Send", elem_id="send", variant="primary", scale=1)
        for trigger in (box.submit, send.click):
            trigger(
                respond,
                [box, chatbot, session, reply_ids],
                [box, chatbot, session, reply_ids],
                api_visibility="private",
            )
        chatbot.like(thumbs, [reply_ids], None, api_visibility="private")

        # Replies from a person (admin console's agent view) show up within a few seconds.
        seen = gr.State(0.0)

        def poll_agent(
            session_id: str | None, history: list[dict[str, Any]], after: float
        ) -> tuple[Any, Any]:
            if not session_id or not assistant.ready or assistant.store is None:
                return gr.skip(), gr.skip()
            new = assistant.store.agent_messages(session_id, after=after)
            if not new:
                return gr.skip(), gr.skip()
            language = assistant.store.session(session_id).language
            added = [{"role": "assistant", "content": format_agent_message(m["text"], language)} for m in new]
            return [*history, *added], new[-1]["created_at"]

        timer = gr.Timer(AGENT_POLL_S)
        timer.tick(
            poll_agent,
            [session, chatbot, seen],
            [chatbot, seen],
            show_progress="hidden",
            api_visibility="private",
        )
    return page
