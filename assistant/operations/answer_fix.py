"""Fixing an answer: the three one-click outcomes of a review item, for every surface.

- fine: the bot's reply was right; the intent it used is confirmed (training data).
- use this answer: an existing intent (or the template of one) was the right answer; it becomes the item's
  label (training data).
- write the right answer: the reviewer's text becomes the intent's draft template in the language they wrote
  in, with a draft in each other language the knowledge base has held back until translated (or its
  existing template there marked "needs update"; see knowledge/answer_drafts.py), or a short knowledge-base
  document (a snippet); the question joins the training data under that intent (a known one, or one
  declared new). Nothing is live until the knowledge base's draft is published.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.message_language import message_language
from assistant.messages import language_name
from assistant.operations.curation_ops import KnowledgeCuration
from assistant.operations.operation_errors import Invalid
from assistant.operations.review_desk import ReviewDesk
from assistant.review_labels import UnknownIntent, check_label
from assistant.turn import NotReady

PUBLISH_HINT = "Nothing is live yet: publish it in the Knowledge base tab."
MAX_ANSWER, MAX_TITLE = 4000, 200


class AnswerFix:
    """Fine / use this answer / write the right answer, over the review desk and the knowledge base's
    curation (`curation` gives it once the knowledge base is loaded)."""

    def __init__(self, review: ReviewDesk, curation: Callable[[], KnowledgeCuration]) -> None:
        self.review = review
        self.curation = curation

    def fine(self, item_id: int, *, same_text: bool = False, reviewer: str = "admin") -> dict[str, Any]:
        """The bot's reply was right: confirm the intent it used. Invalid when it guessed none."""
        item = self.review.get(item_id)
        intent = item.get("predicted")
        if not intent:
            raise Invalid(
                "The bot guessed no topic for this question: pick the right answer or write it instead."
            )
        done = self.review.resolve(item_id, intent, same_text=same_text, reviewer=reviewer, check=False)
        return {
            "item": done,
            "said": f"Marked fine: the bot's answer (topic {intent}) was right{_also(done)}.",
        }

    def use(
        self, item_id: int, answer: str, *, same_text: bool = False, reviewer: str = "admin"
    ) -> dict[str, Any]:
        """`answer` (an intent the assistant knows, or the id of a template: its intent) was the right answer;
        it becomes the item's label. NotFound / Invalid (an unknown intent, with a "did you mean")."""
        self.review.get(item_id)
        name = answer.strip()
        templates = {t.id: t for t in self._templates()}
        intent = templates[name].intent if name in templates else name
        done = self.review.resolve(item_id, intent, same_text=same_text, reviewer=reviewer)
        label = done.get("label") or intent
        return {"item": done, "said": f"This question now uses the answer of {label}{_also(done)}."}

    def write(
        self,
        item_id: int,
        answer: str,
        intent: str,
        *,
        new_intent: bool = False,
        language: str | None = None,
        title: str | None = None,
        snippet: bool = False,
        same_text: bool = False,
        reviewer: str = "admin",
    ) -> dict[str, Any]:
        """The reviewer's `answer` becomes a draft template of `intent` (or, with `snippet`, a knowledge-base
        document) in `language` (left out: the answer's own, among the knowledge base's), and the item is
        labelled `intent`. NotFound for an unknown item; Invalid for an empty or too long text, an unknown
        intent not declared new, a language the knowledge base does not have, or an undeclared {slot}."""
        item = self.review.get(item_id)
        answer = (answer or "").strip()
        if not answer:
            raise Invalid("Write the answer first: the text is empty.")
        if len(answer) > MAX_ANSWER:
            raise Invalid(f"The answer is {len(answer)} characters long; at most {MAX_ANSWER}.")
        try:
            intent = check_label(intent or "", self.review.known_intents(), new=new_intent)
        except UnknownIntent as exc:
            raise Invalid(str(exc)) from None
        curation = self.curation()
        lang = self._language(curation, answer, language, item.get("language") or "")
        title = (title or "").strip()[:MAX_TITLE]
        has_one = any(t.intent == intent and t.language == lang for t in self._templates())
        if not title and (snippet or not has_one):  # an existing template keeps its own title
            title = _default_title(item, lang, intent)
        if snippet:
            written = self._snippet(curation, intent, lang, title, answer, reviewer)
            words = f"Your answer is a draft knowledge-base article “{title}” ({language_name(lang, 'en')}). "
        else:
            written = curation.draft_answer(intent, lang, title, answer, reviewer)
            words = _template_words(written, intent, new_intent)
        done = self.review.resolve(
            item_id, intent, new=True, same_text=same_text, reviewer=reviewer, check=False
        )
        also = f"{_also(done)}," if done.get("also_resolved") else ""
        said = f"{words}The question{also} joins the training data of {intent}. {PUBLISH_HINT}"
        kind = "snippet" if snippet else "template"
        return {"item": done, "said": said, "language": lang, "kind": kind, **written}

    # -- parts ---------------------------------------------------------------------------------------
    def _templates(self) -> list[Any]:
        try:
            return self.curation().template_rows(draft=True)
        except NotReady:  # the knowledge base is still loading: intents alone then
            return []

    @staticmethod
    def _language(curation: KnowledgeCuration, answer: str, given: str | None, asked: str) -> str:
        """The language the answer is in: `given`, else detected (the question's when unsure); one the
        knowledge base has (a knowledge base without content takes any)."""
        have = curation.languages()
        default = asked if asked in have else ("en" if "en" in have or not have else sorted(have)[0])
        lang = (given or "").strip().lower() or message_language(
            answer, default=default, preferred=tuple(sorted(have))
        )
        if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,8})?", lang):
            raise Invalid(f"{lang!r} is not a language code (e.g. en, zh).")
        if have and lang not in have:
            raise Invalid(
                f"The knowledge base has no {language_name(lang, 'en')} content; write the answer in "
                f"{' or '.join(language_name(x, 'en') for x in sorted(have))}."
            )
        return lang

    @staticmethod
    def _snippet(
        curation: KnowledgeCuration, intent: str, lang: str, title: str, answer: str, actor: str
    ) -> dict[str, Any]:
        """A short Markdown document `answers/answer-<intent>.<lang>.md` in the knowledge base's uploads,
        ingested into the draft (a second answer for the intent replaces it; other languages are its twins)."""
        folder = curation.upload_folder() / "answers"
        folder.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", intent.lower()).strip("-") or "answer"
        path = folder / f"answer-{slug}.{lang}.md"
        # JSON strings are YAML strings: any title is safe in the front matter.
        meta = f"---\ntitle: {json.dumps(title, ensure_ascii=False)}\nlanguage: {lang}\n---\n\n"
        path.write_text(f"{meta}{answer}\n", encoding="utf-8")
        report = curation.ingest([path], actor, publish=False)
        if report["errors"]:
            raise Invalid(f"The article could not be stored: {report['errors'][0]['error']}")
        doc = next((d for d in curation.documents() if Path(d.get("uri") or "") == path), None)
        return {"document": {"id": doc["id"] if doc else None, "title": title, "file": path.name}}


def _default_title(item: dict[str, Any], lang: str, intent: str) -> str:
    """The customer's question when the answer is in its language (retrieval then finds the answer for the
    question and its paraphrases), else the intent's name in words."""
    question = " ".join((item.get("text") or "").split())
    if question and (item.get("language") or "") == lang:
        return question if len(question) <= 120 else question[:119] + "…"
    return intent.replace("_", " ").replace("-", " ")


def _template_words(written: dict[str, Any], intent: str, new_intent: bool) -> str:
    """What writing the template did, in plain words."""
    own, *others = written["drafts"]
    topic = f"the new topic {intent}" if new_intent else f"the topic {intent}"
    words = [
        f"Your answer is the draft template {own['id']} ({language_name(own['language'], 'en')}) for {topic}."
    ]
    for d in others:
        name = language_name(d["language"], "en")
        if d["state"] == "needs translation":
            words.append(
                f"The {name} draft {d['id']} waits for its translation: it stays out of publishing until "
                f"someone writes it in {name} (Knowledge base tab)."
            )
        elif d["state"] == "needs update":
            words.append(f"The {name} template {d['id']} is marked “needs update”.")
    return " ".join(words) + " "


def _also(done: dict[str, Any]) -> str:
    """ ", and 2 more with the same text" when the answer went to the other pending copies too."""
    also = done.get("also_resolved", 0)
    return f", and {also} more with the same text" if also else ""
