"""The customer chat page (Gradio), mounted at `/`.

Nothing the browser sends is trusted as state: each tab's conversation (what the chat shows, the session, which
reply has which message id) lives on the server in a `gr.State`, and the chat component is output only. Every
turn and rating passes the same access policy as the REST API (`customer_gate`), on the same buckets.

A message sent while the assistant is still starting waits for it, its reply's place saying how far along the
start is; the page wears the `[brand]` (`ui/pages/chat_brand.py`): title, colour, avatar, greeting, suggestions."""

from __future__ import annotations

import html
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from assistant import messages
from assistant.feedback import rate
from assistant.message_language import message_language
from assistant.pipeline import Assistant, InputError
from assistant.schema import ChatReply
from ui.http.security import Refused, Security, customer_gate
from ui.pages.agent_bubble import AGENT_CSS, format_agent_message
from ui.pages.chat_brand import (
    MAX_SUGGESTIONS,
    PLACEHOLDER,
    SEND,
    avatar_image,
    brand_html,
    greeting,
    page_title,
    reader_language,
    suggestions,
)

_SOURCES = {"en": "Sources", "zh": "来源"}
AGENT_POLL_S = 3.0
QUEUE_WAIT_S = 300.0  # how long a message sent during a reply waits for its turn, at most
STARTING_POLL_S = 1.0  # how often a message sent while the assistant starts shows its progress
STARTING_WAIT_S = 300.0  # how long such a message waits for the assistant, at most


def format_reply(reply: ChatReply) -> str:
    """The reply as Markdown with its sources listed under it (escaped: replies are not trusted HTML)."""
    text = html.escape(reply.reply, quote=False)
    if not reply.sources:
        return text
    label = _SOURCES.get(reply.language, _SOURCES["en"])
    items = []
    for s in reply.sources:
        title = html.escape(s.title, quote=False)
        url = s.url or (s.uri if s.uri.startswith(("http://", "https://")) else "")
        if url.lower().startswith(("http://", "https://")):
            # An HTML link: Markdown's would break on ")" or spaces; this one opens in a new tab, without
            # handing our page (window.opener) or its address (Referer) to the article's site.
            href = html.escape(url, quote=True)
            items.append(f'- <a href="{href}" target="_blank" rel="noopener noreferrer">{title}</a>')
        else:
            items.append(f"- {title}")
    return f"{text}\n\n**{label}:**\n" + "\n".join(items)


def getting_ready(startup: dict[str, Any], language: str) -> str:
    """The reply's place while the assistant starts, "Getting ready… <stage> (NN %)" in `language`, from
    `Startup.as_dict()`."""
    stage = str(startup.get("stage", ""))
    key = f"stage: {stage}"
    name = messages.text(key, language) if key in messages.KEYS else stage
    percent = round(100 * float(startup.get("progress", 0.0)))
    return messages.text("getting_ready", language, stage=name, percent=str(percent))


@dataclass
class PageChat:
    """One tab's conversation, kept on the server (Gradio holds a `gr.State` per page session)."""

    messages: list[dict[str, str]] = field(default_factory=list)  # what the chat shows
    session_id: str | None = None
    reply_ids: dict[int, str] = field(
        default_factory=dict
    )  # index in `messages` of a bot reply -> message_id
    seen: float = 0.0  # created_at of the last agent message shown
    # Messages sent while a reply streams wait here, in order; one turn at a time answers them.
    waiting: deque[str] = field(default_factory=deque)
    sent: int = 0  # messages accepted so far (a message's ticket is its number)
    answered: int = 0  # messages answered (or given up, the tab having gone) so far, in order
    answering: bool = False

    def __post_init__(self) -> None:
        # Not a field: Gradio copies the fields (dataclasses.asdict) and a lock cannot be copied.
        self.changed: threading.Condition = threading.Condition()

    def __deepcopy__(self, memo: dict) -> PageChat:
        """Gradio copies the initial state for each new tab: a fresh conversation (a lock cannot be copied)."""
        return PageChat()


def client_host(request: gr.Request | None) -> str | None:
    """The caller's address as REST sees it (the ASGI scope's client)."""
    client = getattr(request, "client", None)
    return getattr(client, "host", None)


def build_chat_page(assistant: Assistant, security: Security | None = None) -> gr.Blocks:
    """A chat with streaming replies, their sources, thumbs up/down and agent replies; `security` is the API's
    access policy (None: no limits, for tests of the page alone)."""

    def allowed(request: gr.Request, *, reads: bool = False, warn: bool = True) -> bool:
        if security is None:
            return True
        try:
            customer_gate(security, client_host(request), None, None, reads=reads)
        except Refused as refused:
            if warn:
                gr.Warning(refused.message)
            return False
        return True

    def take_message(message: str, chat: PageChat, request: gr.Request) -> Iterator[tuple[Any, Any]]:
        """Show the message at once and answer it; one sent while a reply streams waits for it (never lost).

        Every send is its own event (trigger_mode "multiple", no concurrency limit): the turn already
        answering this tab takes the waiting messages in order, so replies never interleave."""
        message = message if isinstance(message, str) else ""
        if not allowed(request):
            yield gr.skip(), gr.skip()  # the message stays in the box; nothing is answered
            return
        try:
            assistant.validate_message(message)
        except InputError as exc:
            gr.Warning(str(exc))
            yield gr.skip(), gr.skip()
            return
        with chat.changed:
            chat.messages.append({"role": "user", "content": html.escape(message, quote=False)})
            chat.waiting.append(message)
            chat.sent += 1
            ticket = chat.sent
        yield "", list(chat.messages)
        while True:
            with chat.changed:
                # Another turn of this tab is answering: it answers this message too, in order.
                chat.changed.wait_for(lambda: chat.answered >= ticket or not chat.answering, QUEUE_WAIT_S)
                if chat.answered >= ticket or chat.answering:
                    break
                chat.answering = True
            yield from answer_waiting(chat)
        yield gr.skip(), list(chat.messages)  # the last word: the chat with this message's reply in it

    def answer_waiting(chat: PageChat) -> Iterator[tuple[Any, Any]]:
        """Answer the tab's waiting messages in order (the box is left alone: the customer may be typing)."""
        try:
            while True:
                with chat.changed:
                    if not chat.waiting:
                        return
                    message = chat.waiting.popleft()
                try:
                    for shown in answer(message, chat):
                        yield gr.skip(), shown
                finally:  # answered, or the tab went away mid-reply
                    with chat.changed:
                        chat.answered += 1
                        chat.changed.notify_all()
        finally:
            with chat.changed:
                chat.answering = False
                chat.changed.notify_all()

    def answer(message: str, chat: PageChat) -> Iterator[list[dict[str, str]]]:
        """Stream one reply into the chat; yields what the chat shows."""
        with chat.changed:  # messages sent meanwhile and agent messages may be appended after it
            chat.messages.append({"role": "assistant", "content": "…"})
            slot = len(chat.messages) - 1
        yield list(chat.messages)
        if not assistant.ready:
            yield from wait_until_ready(message, chat, slot)
            if not assistant.ready:
                return
        draft = ""
        for kind, value in assistant.chat_stream(message, chat.session_id):
            if kind == "token":
                draft += value
                chat.messages[slot] = {"role": "assistant", "content": html.escape(draft, quote=False)}
            elif kind == "final" and not value.reply:
                # Logged for the agent, nothing to say (the customer was told once that a person answers).
                chat.session_id = value.session_id
                with chat.changed:
                    del chat.messages[slot]
            elif kind == "final":
                chat.messages[slot] = {"role": "assistant", "content": format_reply(value)}
                chat.session_id = value.session_id
                chat.reply_ids[slot] = value.message_id
            else:
                chat.messages[slot] = {
                    "role": "assistant",
                    "content": "Sorry, something went wrong. Please try again.",
                }
            yield list(chat.messages)

    def wait_until_ready(message: str, chat: PageChat, slot: int) -> Iterator[list[dict[str, str]]]:
        """While the assistant starts, the reply's place shows how far along it is, in the customer's
        language; the message is answered once it is ready (or, after STARTING_WAIT_S, politely not)."""
        language = message_language(message)
        deadline = time.monotonic() + STARTING_WAIT_S
        shown = ""
        while not assistant.ready:
            if time.monotonic() > deadline:
                content = messages.text("getting_ready_gave_up", language)
                chat.messages[slot] = {"role": "assistant", "content": content}
                yield list(chat.messages)
                return
            text = getting_ready(assistant.startup.as_dict(), language)
            if text != shown:
                shown = text
                chat.messages[slot] = {"role": "assistant", "content": html.escape(text, quote=False)}
                yield list(chat.messages)
            time.sleep(STARTING_POLL_S)

    def greet(code: str, chat: PageChat) -> list[Any]:
        """A new tab: the greeting as the first message, the suggested questions, the box's hint and the Send
        button, in the browser's language (`code` is `navigator.language`)."""
        language = reader_language(code)
        with chat.changed:
            if not chat.messages and not chat.sent:  # not when a message beat the page's load event
                chat.messages.append({"role": "assistant", "content": html.escape(greeting(brand, language))})
            shown = list(chat.messages)
            offered = suggestions(brand, language) if not chat.sent else []
        buttons = [
            gr.update(value=offered[i], visible=True) if i < len(offered) else gr.update(visible=False)
            for i in range(MAX_SUGGESTIONS)
        ]
        words = [gr.update(placeholder=PLACEHOLDER[language]), gr.update(value=SEND[language])]
        return [shown, gr.update(visible=bool(offered)), *buttons, *words]

    def respond(message: str, chat: PageChat, request: gr.Request) -> Iterator[tuple[Any, Any, Any]]:
        """A message from the box: `take_message`, and the suggestions go once anything is asked (as in the
        widget; in the same event: a second listener on the same trigger would not run)."""
        for cleared, shown in take_message(message, chat, request):
            yield cleared, shown, gr.update(visible=False) if chat.sent else gr.skip()
        # Gradio's completion message replays an event's last yield, and on a loaded server it can reach the
        # page after another event of this tab has drawn a newer chat: ending on "no change" keeps it from
        # redrawing an older one (a message sent meanwhile vanished from the screen).
        yield gr.skip(), gr.skip(), gr.skip()

    def suggest(question: str, chat: PageChat, request: gr.Request) -> Iterator[tuple[Any, Any]]:
        """A suggested question, asked as if typed (the box is left alone: the customer may be typing)."""
        for _, shown in take_message(question, chat, request):
            yield shown, gr.update(visible=False) if chat.sent else gr.skip()
        yield gr.skip(), gr.skip()  # no change as the last word, as in `respond`

    def thumbs(data: gr.LikeData, chat: PageChat, request: gr.Request) -> None:
        """Thumbs up/down on a bot reply: stored like POST /v1/feedback (review queue, webhooks)."""
        index = data.index[0] if isinstance(data.index, (list, tuple)) and data.index else data.index
        message_id = chat.reply_ids.get(index) if isinstance(index, int) else None
        rating = {True: "up", "Like": "up", False: "down", "Dislike": "down"}.get(data.liked)
        if message_id is None or rating is None:
            return  # an agent's message, a rating taken back, or an index that is no reply of this tab
        if allowed(request):
            rate(assistant, message_id, rating)

    def poll_agent(chat: PageChat, request: gr.Request) -> Any:
        """Replies from a person (the admin console's agent view) show up within a few seconds."""
        if not chat.session_id or not assistant.ready or assistant.store is None:
            return gr.skip()
        if not allowed(request, reads=True, warn=False):
            return gr.skip()
        new = assistant.store.agent_messages(chat.session_id, after=chat.seen)
        if not new:
            return gr.skip()
        language = assistant.store.session(chat.session_id).language
        with chat.changed:
            chat.messages.extend(
                {"role": "assistant", "content": format_agent_message(m["text"], language, m["agent"], brand)}
                for m in new
            )
        chat.seen = new[-1]["created_at"]
        return list(chat.messages)

    brand = assistant.settings.brand
    with gr.Blocks(title=page_title(brand), analytics_enabled=False) as page:
        gr.HTML(brand_html(brand) + AGENT_CSS, js_on_load=None)
        chat = gr.State(PageChat())
        chatbot = gr.Chatbot(
            elem_id="chat",
            height=480,
            show_label=False,
            buttons=[],  # no share or copy-all in a customer's chat
            avatar_images=(None, avatar_image(brand)),
            sanitize_html=True,
            feedback_options=("Like", "Dislike"),
            group_consecutive_messages=False,  # an agent's message is not merged into the bot's bubble
        )
        with gr.Row(elem_id="suggestions", visible=False) as offers:
            offered = [gr.Button(visible=False, size="sm", min_width=0) for _ in range(MAX_SUGGESTIONS)]
        with gr.Row():
            box = gr.Textbox(
                elem_id="message",
                placeholder=" / ".join(PLACEHOLDER.values()),  # until the page knows the reader's language
                show_label=False,
                scale=8,
                max_length=assistant.settings.max_message_chars,
            )
            send = gr.Button("Send", elem_id="send", variant="primary", scale=1)
        reader = gr.Textbox(visible=False)  # the browser's language, filled in by the load event's script
        page.load(
            greet,
            [reader, chat],
            [chatbot, offers, *offered, box, send],
            js="(code, chat) => [navigator.language || '', chat]",
            api_visibility="private",
            show_progress="hidden",
        )
        # The chat component is never an input: the history it shows is the server's.
        for trigger in (box.submit, send.click):
            # "multiple": a message sent while a reply streams is queued, not dropped ("once" ignored it);
            # no concurrency limit, so it reaches the tab's queue at once and other customers never wait
            # for this one (each turn passes the same rate limits as the REST API).
            trigger(
                respond,
                [box, chat],
                [box, chatbot, offers],
                api_visibility="private",
                trigger_mode="multiple",
                concurrency_limit=None,
            )
        for button in offered:
            button.click(
                suggest,
                [button, chat],
                [chatbot, offers],
                api_visibility="private",
                trigger_mode="multiple",
                concurrency_limit=None,
            )
        chatbot.like(thumbs, [chat], None, api_visibility="private")
        timer = gr.Timer(AGENT_POLL_S)
        timer.tick(poll_agent, [chat], [chatbot], show_progress="hidden", api_visibility="private")
    return page
