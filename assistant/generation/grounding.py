"""GroundingGuard: is every sentence of a reply supported by the retrieved passages?"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from assistant.generation.text import (
    content_tokens,
    number_parts,
    numbers,
    script_language,
    split_sentences,
)
from knowledge.markdown_text import clean_markdown
from training.generator_prompt import Passage

Embed = Callable[[list[str]], np.ndarray]

# Calibrated on tests/assistant/generation/grounding_cases.jsonl (see test_grounding.py).
# Lexical-only: 0.55; lexical blended with a rescaled embedding cosine: 0.6 (same for all-MiniLM and e5).
DEFAULT_MIN_SUPPORT = 0.55
DEFAULT_MIN_SUPPORT_EMBED = 0.6
LEXICAL_WEIGHT = 0.6

_REFUSAL = re.compile(
    r"(i don'?t know|i do not know|i'?m not sure|cannot find|can'?t find|no information|"
    r"不知道|不清楚|无法回答|没有相关|没有找到)",
    re.I,
)
_COURTESY = re.compile(
    r"^(sure|of course|thanks?( you)?|you'?re welcome|hope (this|that) helps|happy to help|"
    r"let me know.*|is there anything else.*|好的|当然|谢谢|不客气|希望.*帮助.*|还有.*问题.*)[.!。！?？]*$",
    re.I,
)


# Mutually unrelated sentences (en + zh) used to measure an embedder's "unrelated" cosine level.
_UNRELATED = (
    "The invoice can be downloaded as a PDF.",
    "Our cat sleeps on the sofa all afternoon.",
    "Heavy rain is expected in the mountains tomorrow.",
    "He plays the violin in a jazz band.",
    "密码重置链接在六十分钟内有效。",
    "这家餐厅的面条非常好吃。",
    "明天山区会有大雨。",
    "她每天早上跑步五公里。",
)


@dataclass
class GroundingVerdict:
    """Outcome of a grounding check; `sentences` holds {"text", "support", "passage_id"} per sentence."""

    ok: bool
    reason: str
    support: float
    sentences: list[dict] = field(default_factory=list)


class GroundingGuard:
    """Each reply sentence must be supported by some passage (lexical overlap, optionally blended with
    embedding cosine), its numbers must occur in the passages, and the reply must be in `language`.

    Reasons: "ok", "empty", "unsupported", "wrong_language", "refusal" (ok=False: the model said it
    does not know although passages were retrieved; callers fall back to the extractive answer) and
    "no_answer" (only questions: the small model sometimes just restates the customer's question, whose words
    the passages share).
    """

    def __init__(
        self,
        embed: Embed | None = None,
        min_support: float | None = None,
        lexical_weight: float = LEXICAL_WEIGHT,
    ) -> None:
        self.embed = embed
        if min_support is None:
            min_support = DEFAULT_MIN_SUPPORT if embed is None else DEFAULT_MIN_SUPPORT_EMBED
        self.min_support = min_support
        self.lexical_weight = lexical_weight
        self._floor: float | None = None

    def warm_up(self) -> None:
        """Nothing heavy to load (the embedder belongs to the caller)."""

    # ------------------------------------------------------------------------------------------------
    def check(self, reply: str, passages: list[Passage], language: str) -> GroundingVerdict:
        """Judge `reply` against `passages` for a customer writing in `language`."""
        text = clean_markdown(reply or "").strip()
        if not text:
            return GroundingVerdict(False, "empty", 0.0, [])
        if not language_matches(text, language):
            return GroundingVerdict(False, "wrong_language", 0.0, [])
        sentences = [s for s in split_sentences(text) if s.strip()]
        if all(_REFUSAL.search(s) or _COURTESY.match(s) for s in sentences) and any(
            _REFUSAL.search(s) for s in sentences
        ):
            return GroundingVerdict(
                False, "refusal", 0.0, [{"text": s, "support": 0.0, "passage_id": ""} for s in sentences]
            )
        asks = [s.rstrip().endswith(("?", "？")) for s in sentences]
        if any(asks) and all(a or _COURTESY.match(s) for a, s in zip(asks, sentences, strict=True)):
            return GroundingVerdict(
                False, "no_answer", 0.0, [{"text": s, "support": 0.0, "passage_id": ""} for s in sentences]
            )
        if not passages:
            return GroundingVerdict(
                False, "unsupported", 0.0, [{"text": s, "support": 0.0, "passage_id": ""} for s in sentences]
            )

        scores = self._support_matrix(sentences, passages)  # (n_sentences, n_passages)
        facts = [
            (f, number_parts(f))
            for p in passages
            for f in [p.title, *split_sentences(clean_markdown(p.text))]
        ]

        rows, ok, worst = [], True, 1.0
        for i, s in enumerate(sentences):
            j = int(np.argmax(scores[i]))
            support = float(scores[i, j])
            unknown = unsupported_numbers(s, facts)
            trivial = _COURTESY.match(s) is not None or (len(content_tokens(s)) < 2 and not numbers(s))
            if trivial and not unknown:
                rows.append({"text": s, "support": support, "passage_id": "", "skipped": True})
                continue
            row = {"text": s, "support": support, "passage_id": passages[j].id}
            if unknown:
                row["unknown_numbers"] = sorted(unknown)
                support = min(support, 0.0)
            rows.append(row)
            worst = min(worst, support)
            ok = ok and support >= self.min_support
        if worst == 1.0 and all(r.get("skipped") for r in rows):
            return GroundingVerdict(False, "unsupported", 0.0, rows)  # only pleasantries, no answer
        return GroundingVerdict(ok, "ok" if ok else "unsupported", round(worst, 4), rows)

    # ------------------------------------------------------------------------------------------------
    def _support_matrix(self, sentences: list[str], passages: list[Passage]) -> np.ndarray:
        lex = np.zeros((len(sentences), len(passages)))
        passage_tokens = [content_tokens(f"{p.title}\n{clean_markdown(p.text)}") for p in passages]
        for i, s in enumerate(sentences):
            toks = content_tokens(s)
            if not toks:
                continue
            for j, pt in enumerate(passage_tokens):
                lex[i, j] = len(toks & pt) / len(toks)
        if self.embed is None:
            return lex
        # Cosine against each passage's sentences (finer than whole passages), best per passage.
        chunks: list[str] = []
        owner: list[int] = []
        for j, p in enumerate(passages):
            for s in split_sentences(clean_markdown(p.text)) or [p.text]:
                chunks.append(s)
                owner.append(j)
        vecs = np.asarray(self.embed(sentences + chunks), dtype=np.float32)
        sims = self._rescale(vecs[: len(sentences)] @ vecs[len(sentences) :].T)
        cos = np.full((len(sentences), len(passages)), -1.0)
        for k, j in enumerate(owner):
            cos[:, j] = np.maximum(cos[:, j], sims[:, k])
        w = self.lexical_weight
        return w * lex + (1 - w) * np.clip(cos, 0.0, 1.0)

    def _rescale(self, sims: np.ndarray) -> np.ndarray:
        """Map cosine to [0, 1] relative to the embedder's similarity between unrelated sentences.

        Embedders differ a lot (unrelated pairs: ~0.05 for all-MiniLM, ~0.75 for multilingual-e5), so
        one threshold works for any of them only after this rescaling.
        """
        if self._floor is None:
            vecs = np.asarray(self.embed(list(_UNRELATED)), dtype=np.float32)
            pair = vecs @ vecs.T
            off = pair[~np.eye(len(_UNRELATED), dtype=bool)]
            self._floor = float(min(max(np.mean(off), 0.0), 0.95))
        return (sims - self._floor) / (1.0 - self._floor)


def language_matches(text: str, language: str) -> bool:
    """True when `text` is written in `language` ("zh": mostly CJK; "en"/other Latin: not CJK)."""
    lang = language.lower().split("-")[0].split("_")[0]
    script = script_language(text)
    if script is None:
        return True
    if lang == "zh":
        return script == "zh"
    if lang in ("ja", "ko"):
        return True  # not distinguished by script here
    if script == "zh":
        return False
    if lang == "en" or len(text) < 40:
        return True
    try:  # other Latin-script languages: trust langdetect only when it is confident
        from langdetect import DetectorFactory, detect_langs

        DetectorFactory.seed = 0
        best = detect_langs(text)[0]
        return not (best.prob > 0.95 and best.lang != lang)
    except Exception:
        return True


def unsupported_numbers(
    sentence: str, facts: list[tuple[str, set[str]]], closeness: float = 0.85
) -> set[str]:
    """Numbers of `sentence` absent from the passage sentences that best match its words.

    A number must occur in a passage sentence about the same thing: "Express takes 2-3 days" is not
    supported by "Standard takes 3-5 days. Express takes 1-2 days." even though 2 and 3 both occur.
    """
    wanted = numbers(sentence)
    if not wanted:
        return set()
    words = {t for t in content_tokens(sentence) if not t[0].isdigit()}
    overlaps = [len(words & {t for t in content_tokens(f) if not t[0].isdigit()}) for f, _ in facts]
    best = max(overlaps, default=0)
    if best == 0:  # nothing to anchor on: accept any number found anywhere in the passages
        known = set().union(*(n for _, n in facts)) if facts else set()
        return wanted - known
    known = set().union(*(n for (_, n), o in zip(facts, overlaps, strict=True) if o >= closeness * best))
    return wanted - known
