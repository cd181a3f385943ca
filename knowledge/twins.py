"""Twins: one answer told in several languages, kept in step ("needs update" until edited or confirmed).

The rule, on the draft:
- a template's twins are the templates of the same intent in the other languages;
- a document's twins are the documents in the other languages with the same *twin key*: its public path
  (relative to the folder it was ingested from) without a folder named after its language and without a
  language suffix on the file name. So `en/refunds.md` (English), `zh/refunds.md` (Chinese),
  `refunds.md` and `refunds.zh.md` / `refunds-zh.md` / `refunds_zh.md` are twins; `help/en/a.md` and
  `faq/zh/a.md` are not. (The demo keeps its articles as `articles/en/x.md` and `articles/zh/x.md`.)

Editing an item (a draft edit whose title or text really changes) marks each twin "needs update", with who,
when and what changed (a short before → after of the edit), until the twin is edited in turn or confirmed
("still right"). An edit of an item that itself needs update is taken as catching up with its twin: it
clears its own mark and marks nothing else (no ping-pong between languages). The marks belong to the draft:
a publish snapshots them with the version and a rollback brings back the version's marks (see
knowledge/versions.py).

A template may also be *held for translation*: a draft written from its twin's text in another language (a
review's "write the right answer" makes one for each language the knowledge base has). Its mark says
"needs translation" (`changed == ["translation"]`), and until it is edited it stays out of every publish
(`PUBLISHABLE_REVS`), cannot be confirmed "still right", and no other edit turns its mark into a plain
"needs update": a customer never gets an answer in the wrong language.
"""

from __future__ import annotations

import difflib
import re
import time
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import delete, select, text

from knowledge.kb_database import KbDatabase, upsert
from knowledge.kb_tables import FLAG_COLUMNS, TWIN_FLAGS

TEMPLATE, DOCUMENT = "template", "document"
_COLS = ", ".join(name for name, _ in FLAG_COLUMNS)
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[.,'’:][A-Za-z0-9]+)*|\s+|.", re.S)
_CONTEXT = 4  # tokens shown around a change
_PIECE = 70  # characters per side of one change
_CHANGES = 3
TRANSLATION = "translation"  # the `fields` of a mark that holds a template back until it is translated
_HELD = f"f.kind = '{TEMPLATE}' AND f.fields = '{TRANSLATION}'"
# The draft's unit revisions a publish takes (rev, doc_id): all but templates held for translation.
PUBLISHABLE_REVS = (
    "SELECT d.rev, d.doc_id FROM draft_units d JOIN units u ON u.id = d.rev WHERE u.kind != 'template' "
    f"OR NOT EXISTS (SELECT 1 FROM twin_flags f WHERE {_HELD} AND f.item_id = u.ref)"
)


def snapshot_flags(conn: Any, version: int) -> None:
    """Keep the draft's marks with published `version` (inside the publish transaction); not the holds for
    translation, whose templates the version leaves out (a rollback must not hold a later template back)."""
    conn.execute(
        text(
            f"INSERT INTO version_twin_flags (version, {_COLS}) SELECT CAST(:v AS INTEGER), {_COLS} "
            f"FROM twin_flags f WHERE NOT ({_HELD})"
        ),
        {"v": version},
    )


def restore_flags(conn: Any, version: int) -> None:
    """Make `version`'s marks the draft's again (inside the rollback transaction)."""
    conn.execute(delete(TWIN_FLAGS))
    conn.execute(
        text(f"INSERT INTO twin_flags ({_COLS}) SELECT {_COLS} FROM version_twin_flags WHERE version = :v"),
        {"v": version},
    )


def twin_key(path: str, language: str | None) -> str:
    """A document's twin key: its path without its language's folder or file-name suffix (see above)."""
    lang = (language or "").lower()
    parts = list(PurePosixPath(path.replace("\\", "/")).parts) or [path]

    def is_lang(segment: str) -> bool:
        s = segment.lower()
        return bool(lang) and (s == lang or re.split(r"[-_]", s)[0] == lang)

    folders = [p for p in parts[:-1] if not is_lang(p)]
    name = parts[-1]
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    for suffix in (r"[A-Za-z]{2,3}", r"[A-Za-z]{2,3}[-_][A-Za-z]{2,4}"):  # refunds.zh, refunds_zh-CN
        m = re.fullmatch(rf"(.+)[._-]({suffix})", stem)
        if m and is_lang(m.group(2)):
            stem = m.group(1)
            break
    return "/".join([*folders, stem + (f".{ext}" if ext else "")]).lower()


def document_key(path: str | None, uri: str, language: str | None) -> str:
    """A document's twin key from its public path (else its file name)."""
    return twin_key(path or PurePosixPath(str(uri).replace("\\", "/")).name, language)


def same_text(a: str | None, b: str | None) -> bool:
    """Equal but for whitespace (an edit that changes only spacing marks no twin)."""
    return " ".join((a or "").split()) == " ".join((b or "").split())


def change_summary(old: str, new: str) -> str:
    """What an edit changed, shortly: `…within 3 business days…` → `…within 5 business days…`; …"""
    a, b = _TOKEN.findall(old or ""), _TOKEN.findall(new or "")
    ops = [
        op
        for op in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
        if op[0] != "equal" and ("".join(a[op[1] : op[2]]) + "".join(b[op[3] : op[4]])).strip()
    ]
    out = []
    for tag, i1, i2, j1, j2 in ops[:_CHANGES]:
        before = _piece(a, i1, i2)
        after = _piece(b, j1, j2)
        if tag == "insert":
            out.append(f"added “{after}”")
        elif tag == "delete":
            out.append(f"removed “{before}”")
        else:
            out.append(f"“{before}” → “{after}”")
    if len(ops) > _CHANGES:
        out.append(f"and {len(ops) - _CHANGES} more change(s)")
    return "; ".join(out)


def _piece(tokens: list[str], i: int, j: int) -> str:
    lo, hi = max(0, i - _CONTEXT), min(len(tokens), j + _CONTEXT)
    text = " ".join("".join(tokens[lo:hi]).split())
    if len(text) > _PIECE:
        text = text[: _PIECE - 1] + "…"
    return ("…" if lo > 0 else "") + text + ("…" if hi < len(tokens) else "")


class Twins:
    """Twins and their "needs update" marks over one store's draft (callers hold the knowledge base's lock)."""

    def __init__(self, db: KbDatabase) -> None:
        self.db = db

    # -- the draft's items -----------------------------------------------------------------------
    def _templates(self) -> dict[str, dict]:
        rows = self.db.rows(
            "SELECT u.ref, u.intent, u.language, u.title, u.text FROM units u JOIN draft_units d "
            "ON d.rev = u.id WHERE u.kind = 'template'"
        )
        return {
            r["ref"]: {
                "kind": TEMPLATE,
                "id": r["ref"],
                "language": r["language"],
                "title": r["title"],
                "key": r["intent"],
            }
            for r in rows
        }

    def _documents(self) -> dict[str, dict]:
        rows = self.db.rows(
            "SELECT d.id, d.title, d.language, d.uri, (SELECT u.path FROM draft_units x JOIN units u "
            "ON u.id = x.rev WHERE x.doc_id = d.id AND u.kind = 'document' AND u.path IS NOT NULL LIMIT 1) "
            "AS path FROM documents d WHERE d.kind = 'document'"
        )
        return {
            r["id"]: {
                "kind": DOCUMENT,
                "id": r["id"],
                "language": r["language"],
                "title": r["title"],
                "key": document_key(r["path"], r["uri"], r["language"]),
            }
            for r in rows
        }

    def items(self, kind: str) -> dict[str, dict]:
        """The draft's templates (kind "template") or documents (kind "document") by id."""
        return self._templates() if kind == TEMPLATE else self._documents()

    def twins(self, kind: str, item_id: str, items: dict[str, dict] | None = None) -> list[dict]:
        """The item's twins: the same key, another language (KeyError for an unknown item)."""
        items = items if items is not None else self.items(kind)
        me = items.get(item_id)
        if me is None:
            raise KeyError(f"no {kind} {item_id!r}")
        return sorted(
            (
                t
                for t in items.values()
                if t["id"] != item_id and t["key"] == me["key"] and t["language"] != me["language"]
            ),
            key=lambda t: (t["language"] or "", t["id"]),
        )

    # -- marks -----------------------------------------------------------------------------------
    def flags(self, kind: str | None = None) -> dict[tuple[str, str], dict]:
        """Outstanding marks by (kind, item id), on items the draft still has."""
        rows = self.db.rows(select(TWIN_FLAGS).order_by(TWIN_FLAGS.c.at))
        live = {k: self.items(k) for k in {r["kind"] for r in rows if kind in (None, r["kind"])}}
        return {
            (r["kind"], r["item_id"]): _flag(r)
            for r in rows
            if kind in (None, r["kind"]) and r["item_id"] in live.get(r["kind"], {})
        }

    def flag(self, kind: str, item_id: str) -> dict | None:
        rows = self.db.rows(
            select(TWIN_FLAGS).where(TWIN_FLAGS.c.kind == kind, TWIN_FLAGS.c.item_id == item_id)
        )
        return _flag(rows[0]) if rows else None

    def status(self, kind: str, item_id: str) -> dict:
        """{kind, id, language, title, needs_update (the mark or None), twins: [the same for each twin]}."""
        items = self.items(kind)
        twins = self.twins(kind, item_id, items)
        me = items[item_id]

        def row(item: dict) -> dict:
            return {
                "kind": kind,
                "id": item["id"],
                "language": item["language"],
                "title": item["title"],
                "needs_update": self.flag(kind, item["id"]),
            }

        return {**row(me), "twins": [row(t) for t in twins]}

    def plan_edit(self, kind: str, item_id: str, language: str, key: str) -> tuple[bool, list[dict]]:
        """Before an edit of (kind, id) that will have `language` and twin `key`: (whether it catches up with
        its own mark, the twins to mark)."""
        if self.flag(kind, item_id) is not None:
            return True, []
        items = self.items(kind)
        items[item_id] = {**items.get(item_id, {}), "id": item_id, "language": language, "key": key}
        return False, self.twins(kind, item_id, items)

    def mark(
        self,
        kind: str,
        source: dict,
        targets: list[dict],
        actor: str,
        fields: list[str],
        diff: str,
    ) -> None:
        """Mark `targets` as needing update after `source` (id, language, title) was edited; a target held
        for translation keeps that mark (it must still be written, not merely checked)."""
        now = time.time()
        held = self.held()
        rows = [
            {
                "kind": kind,
                "item_id": t["id"],
                "source_id": source["id"],
                "source_language": source.get("language") or "",
                "source_title": source.get("title") or "",
                "actor": actor or "unknown",
                "at": now,
                "fields": ",".join(fields),
                "diff": diff,
            }
            for t in targets
            if not (kind == TEMPLATE and t["id"] in held)
        ]
        if rows:
            with self.db.transaction() as conn:
                upsert(conn, TWIN_FLAGS, rows)

    def hold(self, template_id: str, source: dict, actor: str) -> None:
        """Hold a draft template back until it is translated: its text was written in `source`'s language."""
        row = {
            "kind": TEMPLATE,
            "item_id": template_id,
            "source_id": source["id"],
            "source_language": source.get("language") or "",
            "source_title": source.get("title") or "",
            "actor": actor or "unknown",
            "at": time.time(),
            "fields": TRANSLATION,
            "diff": "",
        }
        with self.db.transaction() as conn:
            upsert(conn, TWIN_FLAGS, [row])

    def held(self) -> set[str]:
        """Ids of the templates held for translation (marks of templates the draft no longer has included)."""
        return {r[0] for r in self.db.tuples(f"SELECT item_id FROM twin_flags f WHERE {_HELD}")}

    def clear(self, kind: str, item_id: str) -> dict | None:
        """Remove an item's mark; returns the mark there was (None if none)."""
        had = self.flag(kind, item_id)
        if had is not None:
            self.db.execute(
                delete(TWIN_FLAGS).where(TWIN_FLAGS.c.kind == kind, TWIN_FLAGS.c.item_id == item_id)
            )
        return had


def _flag(row: dict) -> dict:
    """A stored mark as the surfaces show it."""
    return {
        "source": row["source_id"],
        "source_language": row["source_language"],
        "source_title": row["source_title"],
        "by": row["actor"],
        "at": row["at"],
        "changed": [f for f in (row["fields"] or "").split(",") if f],
        "needs_translation": row["fields"] == TRANSLATION,
        "diff": row["diff"] or "",
    }
