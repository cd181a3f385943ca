"""An answer a person wrote for an intent, as draft templates in every language the knowledge base has.

The person's text becomes the intent's template in the language they wrote it in (a new version of the one
there is, else a new template). Each other language gets:
- when the intent has a template there: that template, marked "needs update" by the edit (knowledge/twins.py);
- when it has none (or only an untranslated draft): a draft with the person's text, *held for translation*.
  A held template is left out of every publish until someone edits it, so a customer never reads an answer
  in the wrong language, while the person's own answer can go live at once. (Refusing to publish until every
  language is written would block every other change to the shared draft as well.)
Nothing is live until the draft is published.
"""

from __future__ import annotations

import re
from typing import Any

from knowledge.curation import Curation
from knowledge.twins import TEMPLATE
from knowledge.types import Template

WRITTEN, NEEDS_TRANSLATION, NEEDS_UPDATE, IN_STEP = "written", "needs translation", "needs update", "in step"


def template_id_for(intent: str, language: str, taken: set[str]) -> str:
    """`tpl-<intent>-<language>` in ASCII (`-2`, `-3`… when that id is taken)."""
    slug = re.sub(r"[^a-z0-9]+", "-", intent.lower()).strip("-") or "answer"
    base = f"tpl-{slug}-{language}"
    found, n = base, 1
    while found in taken:
        n += 1
        found = f"{base}-{n}"
    return found


def draft_answer(
    curation: Curation, intent: str, language: str, title: str, answer: str, actor: str
) -> dict[str, Any]:
    """Write `answer` (in `language`) as the draft template of `intent`, and its twins as above.

    `title` is the template's title when it is new (an existing template keeps its own unless `title` is
    given). Returns {template: the written template, drafts: [{id, language, state}] for every language,
    the written one first; state is "written", "needs translation", "needs update" or "in step"}.
    ValueError for a missing field or an undeclared {slot} (nothing is written then)."""
    language = language.strip().lower()
    if not answer.strip():
        raise ValueError("the answer is empty")
    every = curation.store.templates(draft=True)
    taken = {t.id for t in every}
    mine: dict[str, Template] = {}
    for t in every:
        if t.intent == intent:
            mine.setdefault(t.language, t)
    old = mine.get(language)
    own = Template(
        old.id if old else template_id_for(intent, language, taken),
        intent,
        language,
        (title.strip() or old.title) if old else title.strip() or intent.replace("_", " "),
        answer.strip(),
    )
    taken.add(own.id)
    # A new template tells the intent's templates in other languages too: they may say something else.
    curation.upsert_template(own, actor, mark_twins=old is None)
    twins = curation.twins()
    drafts = [{"id": own.id, "language": language, "state": WRITTEN}]
    for other in sorted(curation.languages() - {language}):
        there = mine.get(other)
        if there is None or there.id in twins.held():
            tid = there.id if there else template_id_for(intent, other, taken)
            taken.add(tid)
            curation.upsert_template(
                Template(tid, intent, other, own.title, own.answer), actor, hold_from=own
            )
            drafts.append({"id": tid, "language": other, "state": NEEDS_TRANSLATION})
        else:
            marked = twins.flag(TEMPLATE, there.id) is not None
            drafts.append({"id": there.id, "language": other, "state": NEEDS_UPDATE if marked else IN_STEP})
    return {"template": own.__dict__, "drafts": drafts}
