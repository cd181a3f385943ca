"""The knowledge base's lexical index on PostgreSQL: the same BM25 ranking as SQLite's FTS5 table `units_fts`.

FTS5 tokenizes with `porter unicode61 remove_diacritics 2` (knowledge/lexical.py) and ranks with `bm25()`. Here
Python makes the same tokens (`index_text`'s CJK bigrams, lower case, diacritics removed), PostgreSQL stems them
with its Snowball `porter` dictionary (the algorithm FTS5's porter tokenizer implements, same 3–64 byte bounds)
and an inverted index holds each unit's weighted term frequencies, from which one SQL statement computes FTS5's
BM25 exactly: k1 = 1.2, b = 0.75, idf = max(ln((N - n + 0.5) / (n + 0.5)), 1e-6) over every indexed unit (as
FTS5 counts every row of units_fts), document length = all the unit's tokens, stopwords included.

Tables: `unit_lexicon` (one row per unit revision: language, kind, token count), `unit_postings` (term,
unit, weighted frequency; looked up by term) and `lexicon_stats` (units and tokens in all, for N and the
average length). All functions take a SQLAlchemy Connection on PostgreSQL; user text only ever travels as
bound parameters. Measured against FTS5: benchmarks/lexical_backends.py.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from knowledge.lexical import index_text, query_terms

# Field weights as FTS5 applies them today: `bm25(units_fts, 2.0, 1.5, 1.0)` gives 2.0 to the first column,
# the UNINDEXED unit_id, so title counts 1.5, heading 1.0 and body the default 1.0.
TITLE_WEIGHT, HEADING_WEIGHT, BODY_WEIGHT = 1.5, 1.0, 1.0
DICTIONARY = "lepton_porter"  # a Snowball dictionary with the original Porter stemmer, no stopwords
LOCK_KEY = 0x6C657869636F6E  # pg_advisory_xact_lock key ("lexicon" in ASCII) for the DDL

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)  # unicode61's tokens: runs of letters and digits

metadata = sa.MetaData()
unit_lexicon = sa.Table(
    "unit_lexicon",
    metadata,
    sa.Column("unit_id", sa.Text, primary_key=True),
    sa.Column("language", sa.Text),
    sa.Column("kind", sa.Text),
    sa.Column("length", sa.Integer, nullable=False),
)
unit_postings = sa.Table(
    "unit_postings",
    metadata,
    sa.Column("term", sa.Text, primary_key=True),
    sa.Column("unit_id", sa.Text, primary_key=True),
    sa.Column("freq", sa.Float, nullable=False),
    sa.Index("ix_unit_postings_unit_id", "unit_id"),
)
# BM25's N and average length without a scan per query: kept by index_units / drop_units (one row, id 1).
lexicon_stats = sa.Table(
    "lexicon_stats",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("units", sa.BigInteger, nullable=False),
    sa.Column("tokens", sa.BigInteger, nullable=False),
)

# A token as FTS5's porter tokenizer leaves it: stemmed when 3 to 64 bytes long, else unchanged.
_STEM = (
    "CASE WHEN octet_length(tok) BETWEEN 3 AND 64 "
    f"THEN coalesce((ts_lexize('{DICTIONARY}'::regdictionary, tok))[1], tok) ELSE tok END"
)
_CREATE_DICTIONARY = sa.text(  # a DO block takes no parameters; the name is this module's constant
    f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_ts_dict WHERE dictname = '{DICTIONARY}' "
    "AND dictnamespace = current_schema()::regnamespace) THEN "
    f"CREATE TEXT SEARCH DICTIONARY {DICTIONARY} (TEMPLATE = snowball, LANGUAGE = porter); END IF; END $$"
)
_CREATE_STATS = sa.text(
    "INSERT INTO lexicon_stats (id, units, tokens) SELECT 1, count(*), coalesce(sum(length), 0) "
    "FROM unit_lexicon ON CONFLICT (id) DO NOTHING"
)
_INSERT_POSTINGS = sa.text(
    "INSERT INTO unit_postings (term, unit_id, freq) "
    f"SELECT {_STEM} AS term, unit_id, sum(w) FROM unnest(CAST(:ids AS text[]), CAST(:toks AS text[]), "
    "CAST(:weights AS float8[])) AS t(unit_id, tok, w) GROUP BY 1, 2"
)
_COUNT = sa.text("UPDATE lexicon_stats SET units = units + :units, tokens = tokens + :tokens WHERE id = 1")
_DROP = sa.text(
    """
    WITH gone_postings AS (DELETE FROM unit_postings WHERE unit_id = ANY(CAST(:ids AS text[]))),
    gone AS (DELETE FROM unit_lexicon WHERE unit_id = ANY(CAST(:ids AS text[])) RETURNING length)
    UPDATE lexicon_stats SET units = units - (SELECT count(*) FROM gone),
        tokens = tokens - (SELECT coalesce(sum(length), 0) FROM gone)
    WHERE id = 1
    """
)
# FTS5's bm25(): every query term (a phrase of one token) adds idf * f * (k1 + 1) / (f + k1 * (1 - b + b * D /
# avgdl)), with n = the units holding the term among all indexed units, f its weighted count in the unit.
_SEARCH = sa.text(
    f"""
    WITH q AS MATERIALIZED (SELECT {_STEM} AS term FROM unnest(CAST(:toks AS text[])) AS t(tok)),
    p AS MATERIALIZED (
        SELECT term, unit_id, freq FROM unit_postings WHERE term IN (SELECT term FROM q)
    ),
    stats AS (SELECT units::float8 AS n, tokens::float8 / greatest(units, 1) AS avgdl FROM lexicon_stats WHERE id = 1),
    idf AS (
        SELECT q.term, greatest(ln((s.n - d.hits + 0.5) / (d.hits + 0.5)), 1e-6) AS idf
        FROM q JOIN (SELECT term, count(*)::float8 AS hits FROM p GROUP BY term) d ON d.term = q.term
        CROSS JOIN stats s
    )
    SELECT p.unit_id AS id,
           sum(idf.idf * p.freq * 2.2 / (p.freq + 1.2 * (0.25 + 0.75 * l.length::float8 / s.avgdl))) AS score
    FROM idf
    JOIN p ON p.term = idf.term
    JOIN version_units v ON v.rev = p.unit_id AND v.version = :version
    JOIN unit_lexicon l ON l.unit_id = p.unit_id
    CROSS JOIN stats s
    WHERE (CAST(:language AS text) IS NULL OR l.language = :language)
      AND (CAST(:kinds AS text[]) IS NULL OR l.kind = ANY(CAST(:kinds AS text[])))
    GROUP BY p.unit_id
    ORDER BY score DESC, p.unit_id
    LIMIT :n
    """
)


def fold(token: str) -> str:
    """A lower-case token without diacritics (unicode61's remove_diacritics)."""
    if token.isascii():
        return token
    stripped = "".join(c for c in unicodedata.normalize("NFD", token) if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFC", stripped)


def tokens(text: str | None) -> list[str]:
    """The unstemmed tokens FTS5 stores for `text` (CJK runs as bigrams)."""
    return [fold(t) for t in _TOKEN.findall(index_text(text or "").lower())]


def create_lexicon(conn: Connection) -> None:
    """Create the stemming dictionary, tables and indexes unless they exist (replicas may call it at once)."""
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    conn.execute(_CREATE_DICTIONARY)
    metadata.create_all(conn, checkfirst=True)
    conn.execute(_CREATE_STATS)


def index_units(conn: Connection, units: Iterable[Mapping]) -> None:
    """Index units (mappings with id, title, heading, text, language, kind); an id already indexed is kept."""
    rows: dict[str, dict] = {}
    weighted: dict[str, Counter] = {}
    for u in units:
        if u["id"] in rows:
            continue
        fields = [
            (u.get("title"), TITLE_WEIGHT),
            (u.get("heading"), HEADING_WEIGHT),
            (u.get("text"), BODY_WEIGHT),
        ]
        counts: Counter = Counter()
        length = 0
        for text, weight in fields:
            toks = tokens(text)
            length += len(toks)
            for t in toks:
                counts[t] += weight
        rows[u["id"]] = {
            "unit_id": u["id"],
            "language": u.get("language"),
            "kind": u.get("kind"),
            "length": length,
        }
        weighted[u["id"]] = counts
    if not rows:
        return
    from sqlalchemy.dialects.postgresql import insert

    # In id order, so that replicas indexing the same units at once lock them in the same order.
    new = conn.execute(
        insert(unit_lexicon).on_conflict_do_nothing().returning(unit_lexicon.c.unit_id),
        [rows[i] for i in sorted(rows)],
    ).scalars()
    ids, toks, weights = [], [], []
    added = added_tokens = 0
    for unit_id in new:
        added += 1
        added_tokens += rows[unit_id]["length"]
        for tok, w in weighted[unit_id].items():
            ids.append(unit_id)
            toks.append(tok)
            weights.append(w)
    if ids:
        conn.execute(_INSERT_POSTINGS, {"ids": ids, "toks": toks, "weights": weights})
    if added:
        conn.execute(_COUNT, {"units": added, "tokens": added_tokens})


def drop_units(conn: Connection, ids: Iterable[str]) -> None:
    """Remove units from the index (unknown ids are ignored)."""
    ids = sorted(set(ids))
    if ids:
        conn.execute(_DROP, {"ids": ids})


def search(
    conn: Connection,
    query: str,
    n: int,
    *,
    version: int,
    language: str | None = None,
    kinds: Iterable[str] | None = None,
) -> dict[str, float]:
    """BM25 matches among `version`'s units (table version_units) as {unit id: positive score}, best `n`."""
    toks = [fold(t) for term in query_terms(query) for t in _TOKEN.findall(term)]
    if not toks or n <= 0:
        return {}
    params = {
        "toks": toks,
        "version": version,
        "language": language or None,
        "kinds": sorted(kinds) if kinds else None,
        "n": n,
    }
    return {r.id: float(r.score) for r in conn.execute(_SEARCH, params)}
