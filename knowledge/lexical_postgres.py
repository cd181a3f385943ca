"""The knowledge base's lexical index on PostgreSQL: the same BM25 ranking as SQLite's FTS5 table `units_fts`.

Terms come from FTS5's own tokenizer (knowledge/fts5_terms.py: `porter unicode61 remove_diacritics 2` on
`index_text`, CJK runs as bigrams), so both backends stem and fold identically; an inverted index holds each
unit's weighted term frequencies, from which SQL computes FTS5's `bm25()` exactly: k1 = 1.2,
b = 0.75, idf = max(ln((N - n + 0.5) / (n + 0.5)), 1e-6) over every indexed unit (as FTS5 counts every row of
units_fts), document length = all the unit's tokens, stopwords included.

Tables: `unit_lexicon` (one row per unit revision: language, kind, token count), `unit_postings` (term,
unit, weighted frequency; looked up by term) and `lexicon_stats` (units and tokens in all, for N and the
average length). All functions take a SQLAlchemy Connection on PostgreSQL; user text only ever travels as
bound parameters. Measured against FTS5: benchmarks/lexical_backends.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from knowledge.fts5_terms import query_tokens, unit_terms
from knowledge.lexical import FIELD_WEIGHTS, query_terms

# Field weights, as FTS5's bm25() applies them (knowledge.lexical.FTS5_RANK): stored in each posting's freq, so
# a change of weights needs the lexicon rebuilt (knowledge/lexical_rebuild.py).
WEIGHTS = FIELD_WEIGHTS
TITLE_WEIGHT, HEADING_WEIGHT, BODY_WEIGHT = WEIGHTS["title"], WEIGHTS["heading"], WEIGHTS["body"]
LOCK_KEY = 0x6C657869636F6E  # pg_advisory_xact_lock key ("lexicon" in ASCII) for the DDL

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

_CREATE_STATS = sa.text(
    "INSERT INTO lexicon_stats (id, units, tokens) SELECT 1, count(*), coalesce(sum(length), 0) "
    "FROM unit_lexicon ON CONFLICT (id) DO NOTHING"
)
_INSERT_POSTINGS = sa.text(
    "INSERT INTO unit_postings (term, unit_id, freq) "
    "SELECT * FROM unnest(CAST(:terms AS text[]), CAST(:ids AS text[]), CAST(:freqs AS float8[]))"
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
# avgdl)), k1 = 1.2, b = 0.75, f = its weighted count in the unit, D = the unit's tokens; idf from _HITS.
# Two short statements: one CTE query doing both planned 2-3x slower here (a custom plan every call).
_HITS = sa.text(
    "SELECT s.units, s.tokens, ARRAY(SELECT count(p.term) FROM unnest(CAST(:terms AS text[])) WITH ORDINALITY "
    "AS t(term, i) LEFT JOIN unit_postings p ON p.term = t.term GROUP BY t.i ORDER BY t.i) AS hits "
    "FROM lexicon_stats s WHERE s.id = 1"
)
_SCORE = sa.text(
    """
    SELECT p.unit_id AS id,
           sum(w.idf * p.freq * 2.2 / (p.freq + 1.2 * (0.25 + 0.75 * l.length::float8 / :avgdl))) AS score
    FROM unnest(CAST(:terms AS text[]), CAST(:idfs AS float8[])) AS w(term, idf)
    JOIN unit_postings p ON p.term = w.term
    JOIN version_units v ON v.rev = p.unit_id AND v.version = :version
    JOIN unit_lexicon l ON l.unit_id = p.unit_id
    WHERE (CAST(:language AS text) IS NULL OR l.language = :language)
      AND (CAST(:kinds AS text[]) IS NULL OR l.kind = ANY(CAST(:kinds AS text[])))
    GROUP BY p.unit_id
    ORDER BY score DESC, p.unit_id
    LIMIT :n
    """
)


def create_lexicon(conn: Connection) -> None:
    """Create the tables and indexes unless they exist (replicas may call it at once)."""
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    metadata.create_all(conn, checkfirst=True)
    conn.execute(_CREATE_STATS)


def index_units(conn: Connection, units: Iterable[Mapping]) -> None:
    """Index units (mappings with id, title, heading, text, language, kind); an id already indexed is kept."""
    first: dict[str, Mapping] = {}
    for u in units:
        first.setdefault(u["id"], u)  # an id given twice: the first, as for an id already indexed
    todo = list(first.values())
    rows: dict[str, dict] = {}
    weighted: dict[str, dict[str, float]] = {}
    for u, (counts, length) in zip(
        todo, unit_terms([(u.get("title"), u.get("heading"), u.get("text")) for u in todo]), strict=True
    ):
        freqs: dict[str, float] = {}
        for (field, term), count in counts.items():
            freqs[term] = freqs.get(term, 0.0) + WEIGHTS[field] * count
        rows[u["id"]] = {
            "unit_id": u["id"],
            "language": u.get("language"),
            "kind": u.get("kind"),
            "length": length,
        }
        weighted[u["id"]] = freqs
    if not rows:
        return
    # In id order, so that replicas indexing the same units at once lock them in the same order.
    new = conn.execute(
        insert(unit_lexicon).on_conflict_do_nothing().returning(unit_lexicon.c.unit_id),
        [rows[i] for i in sorted(rows)],
    ).scalars()
    terms, ids, freqs = [], [], []
    added = added_tokens = 0
    for unit_id in new:
        added += 1
        added_tokens += rows[unit_id]["length"]
        for term, freq in weighted[unit_id].items():
            terms.append(term)
            ids.append(unit_id)
            freqs.append(freq)
    if ids:
        conn.execute(_INSERT_POSTINGS, {"terms": terms, "ids": ids, "freqs": freqs})
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
    # One entry per query term, as FTS5 ORs them (a term that two query words stem to counts twice there too).
    terms = query_tokens(query_terms(query))
    if not terms or n <= 0:
        return {}
    stats = conn.execute(_HITS, {"terms": terms}).one()
    # FTS5's idf over every indexed unit (all versions), floored as FTS5 floors it.
    weighted = [
        (term, max(math.log((stats.units - hits + 0.5) / (hits + 0.5)), 1e-6))
        for term, hits in zip(terms, stats.hits, strict=True)
        if hits
    ]
    if not weighted:
        return {}
    params = {
        "terms": [t for t, _ in weighted],
        "idfs": [idf for _, idf in weighted],
        "avgdl": stats.tokens / stats.units,
        "version": version,
        "language": language or None,
        "kinds": sorted(kinds) if kinds else None,
        "n": n,
    }
    return {r.id: float(r.score) for r in conn.execute(_SCORE, params)}
