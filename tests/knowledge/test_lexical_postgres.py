"""The PostgreSQL lexical index (knowledge/lexical_postgres.py) on a real server, against SQLite's FTS5."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from knowledge import lexical_postgres as lp
from knowledge.database.engines import open_engine
from knowledge.lexical import FTS5_RANK, FTS_TOKENIZER, MAX_QUERY_TERMS, index_text, match_expression

UNITS = [
    {
        "id": "en-refund",
        "title": "Refund policy",
        "heading": "Refunds",
        "text": "We refund every order within 14 days. Refunds go back to the card you paid with.",
        "language": "en",
        "kind": "document",
    },
    {
        "id": "en-shipping",
        "title": "Shipping options",
        "heading": "Delivery times",
        "text": "Standard shipping takes 3 to 5 business days; express delivery arrives the next day.",
        "language": "en",
        "kind": "document",
    },
    {
        "id": "en-running",
        "title": "Returning running shoes",
        "heading": "",
        "text": "Running shoes that were worn outside can't be returned. Café orders are final.",
        "language": "en",
        "kind": "template",
    },
    {
        "id": "zh-refund",
        "title": "退款政策",
        "heading": "退款时间",
        "text": "我们在十四天内办理退款，款项退回原支付方式。",
        "language": "zh",
        "kind": "document",
    },
    {
        "id": "zh-shipping",
        "title": "配送",
        "heading": "运费",
        "text": "订单满九十九元免运费，快递三到五天送达。",
        "language": "zh",
        "kind": "template",
    },
]
QUERIES = [
    "how long do refunds take",
    "express shipping",
    "can I return running shoes",
    "cafe",
    "shipping days refund",
    "退款要多久",
    "运费是多少",
    "快递几天送达",
    "refund 退款",
]


@pytest.fixture
def engine(postgres_url: str, tmp_path: Path) -> sa.Engine:
    """A database with the lexicon, a minimal version_units table and UNITS live in version 1."""
    engine = open_engine(postgres_url, tmp_path / "unused.db")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE version_units (version integer, rev text)"))
        lp.create_lexicon(conn)
        lp.index_units(conn, UNITS)
        set_live(conn, 1, [u["id"] for u in UNITS])
    return engine


def set_live(conn: sa.Connection, version: int, ids: list[str]) -> None:
    for unit_id in ids:
        conn.execute(sa.text("INSERT INTO version_units VALUES (:v, :r)"), {"v": version, "r": unit_id})


def search(engine: sa.Engine, query: str, n: int = 10, version: int = 1, **kw) -> dict[str, float]:
    with engine.connect() as conn:
        return lp.search(conn, query, n, version=version, **kw)


def fts5_search(units: list[dict], query: str) -> dict[str, float]:
    """Today's SQLite ranking (Store.lexical) of `units`, all live."""
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE units_fts USING fts5("
        f"unit_id UNINDEXED, title, heading, body, tokenize='{FTS_TOKENIZER}')"
    )
    db.executemany(
        "INSERT INTO units_fts VALUES (?, ?, ?, ?)",
        [(u["id"], index_text(u["title"]), index_text(u["heading"]), index_text(u["text"])) for u in units],
    )
    expr = match_expression(query)
    if expr is None:
        return {}
    rows = db.execute(
        f"SELECT unit_id, -{FTS5_RANK} AS s FROM units_fts WHERE units_fts MATCH ? ORDER BY s DESC",
        [expr],
    )
    return dict(rows.fetchall())


def test_stemming_finds_other_word_forms(engine: sa.Engine) -> None:
    hits = search(engine, "refunds")
    assert next(iter(hits)) == "en-refund"
    assert set(search(engine, "refunding")) == set(hits)  # one Porter stem
    assert "en-running" in search(engine, "run")
    assert all(score > 0 for score in hits.values())


def test_diacritics_are_ignored(engine: sa.Engine) -> None:
    assert list(search(engine, "cafe")) == ["en-running"]
    assert list(search(engine, "café")) == ["en-running"]


def test_chinese_matches_by_bigram(engine: sa.Engine) -> None:
    assert next(iter(search(engine, "退款要多久"))) == "zh-refund"
    assert list(search(engine, "运费是多少")) == ["zh-shipping"]
    assert search(engine, "天气怎么样") == {}  # no shared bigram


def test_language_and_kind_filters(engine: sa.Engine) -> None:
    both = search(engine, "refund 退款")
    assert {"en-refund", "zh-refund"} <= set(both)
    assert set(search(engine, "refund 退款", language="zh")) == {"zh-refund"}
    assert set(search(engine, "shipping 运费", kinds={"template"})) == {"zh-shipping"}
    assert set(search(engine, "shipping 运费", kinds={"document", "template"}, language="en")) == {
        "en-shipping"
    }


def test_only_the_versions_units_are_found(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        set_live(conn, 2, ["en-shipping"])
    assert set(search(engine, "refund shipping", version=2)) == {"en-shipping"}
    assert search(engine, "refund", version=2) == {}
    assert search(engine, "refund", version=3) == {}


def test_n_limits_to_the_best(engine: sa.Engine) -> None:
    everything = search(engine, "refund shipping returned 退款 运费")
    best_two = search(engine, "refund shipping returned 退款 运费", n=2)
    assert list(best_two) == list(everything)[:2]
    assert search(engine, "refund", n=0) == {}


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "the and of",  # stopwords only
        "'; DROP TABLE unit_lexicon; --",
        "refund' OR '1'='1",
        'a "quoted" \\ backslash',
        "& | ! ( ) : * <-> <2>",
        "refund & !shipping | (express:*)",
        "\x00\x01 refund",
        "refund " * 5000,
        "退" * 3000,
    ],
)
def test_hostile_queries_are_plain_text(engine: sa.Engine, query: str) -> None:
    hits = search(engine, query)
    assert set(hits) <= {u["id"] for u in UNITS}
    if "refund" in query:
        assert "en-refund" in hits  # the operators were words, not tsquery syntax
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM unit_lexicon")).scalar() == len(UNITS)


def test_indexing_twice_keeps_one_row(engine: sa.Engine) -> None:
    before = search(engine, "refund shipping")
    with engine.begin() as conn:
        lp.create_lexicon(conn)
        lp.index_units(conn, UNITS + [{**UNITS[0], "text": "changed text, same id"}])
        lp.index_units(conn, [])
    assert search(engine, "refund shipping") == before
    with engine.begin() as conn:  # an id twice in one call: the first is indexed
        lp.index_units(conn, [{**UNITS[0], "id": "again"}, {**UNITS[1], "id": "again"}])
        set_live(conn, 1, ["again"])
    assert search(engine, "refund")["again"] == pytest.approx(search(engine, "refund")["en-refund"])
    assert "again" not in search(engine, "express")


def test_drop_units(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        lp.drop_units(conn, ["en-refund", "not-there"])
        lp.drop_units(conn, [])
        postings = conn.execute(sa.text("SELECT count(*) FROM unit_postings WHERE unit_id = 'en-refund'"))
        assert postings.scalar() == 0
    assert "en-refund" not in search(engine, "refund")
    assert "en-running" in search(engine, "refund returned")
    rest = [u for u in UNITS if u["id"] != "en-refund"]
    for query in QUERIES:  # N and the average length no longer count the dropped unit
        assert search(engine, query) == pytest.approx(fts5_search(rest, query), rel=1e-9, abs=1e-12)


def test_replicas_create_the_lexicon_at_once(postgres_url: str, tmp_path: Path) -> None:
    engines = [
        open_engine(f"{postgres_url}?application_name=replica-{i}", tmp_path / "x.db") for i in range(4)
    ]
    barrier = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def create(engine: sa.Engine) -> None:
        try:
            barrier.wait()
            with engine.begin() as conn:
                lp.create_lexicon(conn)
                lp.index_units(conn, UNITS)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engines[0].begin() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM unit_lexicon")).scalar() == len(UNITS)
        conn.execute(sa.text("CREATE TABLE version_units (version integer, rev text)"))
        set_live(conn, 1, [u["id"] for u in UNITS])
    for query in QUERIES:  # each unit counted once in N and the average length
        assert search(engines[0], query) == pytest.approx(fts5_search(UNITS, query), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("query", QUERIES)
def test_scores_agree_with_fts5(engine: sa.Engine, query: str) -> None:
    expected = fts5_search(UNITS, query)
    got = search(engine, query)
    assert list(got) == sorted(expected, key=lambda i: (-expected[i], i))
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)


# PostgreSQL's own Snowball `porter` would differ on "possibly", "technology" and "straße" (see fts5_terms.py).
TRICKY = (
    "Don't e-mail support@shop.example about order #A-1234_b; v2.3.1 costs $3.14 (½ off). "
    "Café, naïve, Zürich, ÉCOLE, Ångström, straße. 退款政策：请在7天内申请退款。カタカナ テスト. Emoji 🎉 ok. "
    "running runs ran generalization relational conditional ponies caresses possibly technology is as us"
)


def test_terms_agree_with_fts5_vocabulary(engine: sa.Engine) -> None:
    """Every term and its count per unit as FTS5 stores them (fts5vocab), on text full of edge cases."""
    unit = {"id": "tricky", "title": "Tricky title: refunds!", "heading": "", "text": TRICKY}
    with engine.begin() as conn:
        lp.index_units(conn, [{**unit, "language": "en", "kind": "document"}])
        rows = conn.execute(sa.text("SELECT term, freq FROM unit_postings WHERE unit_id = 'tricky'"))
        got = {r.term: r.freq for r in rows}
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE units_fts USING fts5("
        f"unit_id UNINDEXED, title, heading, body, tokenize='{FTS_TOKENIZER}')"
    )
    db.execute("CREATE VIRTUAL TABLE vocab USING fts5vocab(units_fts, 'instance')")
    db.execute(
        "INSERT INTO units_fts VALUES (?, ?, ?, ?)",
        ["tricky", index_text(unit["title"]), index_text(unit["heading"]), index_text(unit["text"])],
    )
    weight = {"title": lp.TITLE_WEIGHT, "heading": lp.HEADING_WEIGHT, "body": lp.BODY_WEIGHT}
    expected: dict[str, float] = {}
    for term, col in db.execute("SELECT term, col FROM vocab"):
        expected[term] = expected.get(term, 0.0) + weight[col]
    assert got == expected


def test_a_title_word_counts_more_than_a_heading_word_and_a_heading_word_more_than_a_body_word(
    engine: sa.Engine,
) -> None:
    """The weights fall on title, heading and body (FTS5's first column is the unindexed unit_id)."""
    # Every unit the same length: only the field differs.
    filler = ["alpha beta", "gamma delta", "epsilon zeta"]
    units = [
        {
            "id": f"w-{field}",
            "title": "zebra" if field == "title" else filler[0],
            "heading": "zebra" if field == "heading" else filler[1],
            "text": "zebra" if field == "body" else filler[2],
            "language": "en",
            "kind": "document",
        }
        for field in ("body", "heading", "title")
    ]
    assert list(fts5_search(units, "zebra")) == ["w-title", "w-heading", "w-body"]
    with engine.begin() as conn:
        lp.index_units(conn, units)
        set_live(conn, 1, [u["id"] for u in units])
    assert list(search(engine, "zebra")) == ["w-title", "w-heading", "w-body"]


def test_a_very_long_query_is_answered_quickly(engine: sa.Engine) -> None:
    """A pasted page (4,000+ characters, hundreds of distinct words) looks up MAX_QUERY_TERMS terms at most."""
    query = " ".join(f"x{i}" for i in range(900)) + " how long do refunds take"
    assert len(query) > 4000
    assert match_expression(query).count(" OR ") == MAX_QUERY_TERMS - 1
    started = time.perf_counter()
    fts5 = fts5_search(UNITS, query)
    postgres = search(engine, query)
    assert time.perf_counter() - started < 2.0
    assert next(iter(fts5)) == next(iter(postgres)) == "en-refund"
