"""Readers for .html .pdf .docx and template .csv/.json files, on small files made in the test, and the
ingest progress bar."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge import Embedder, KnowledgeBase
from knowledge.readers import ReadError, read_document
from knowledge.template_files import read_templates

HTML = """<!doctype html><html lang="en-GB"><head><title>Warranty | Kestrel</title>
<style>.x{color:red}</style><script>var tracking = "do not index";</script></head>
<body><nav>Home | Shop</nav><h1>Warranty</h1><p>Every laptop has a two-year warranty.</p>
<h2>How to claim</h2><ul><li>Open a ticket</li><li>Ship the laptop to us</li></ul>
<table><tr><th>Product</th><th>Years</th></tr><tr><td>Laptop</td><td>2</td></tr></table>
<footer>© Kestrel</footer></body></html>"""


def minimal_pdf(lines: list[str], title: str = "") -> bytes:
    """A valid one-page PDF with Helvetica text lines (pypdf cannot write text, so we build it by hand)."""
    ops = ["BT", "/F1 12 Tf", "72 720 Td", "14 TL"]
    for line in lines:
        ops.append("(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        ("<< /Title (" + title + ") >>").encode("latin-1"),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def minimal_docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.core_properties.title = "Gift cards"
    d.add_heading("Gift cards", level=1)
    d.add_paragraph("Gift cards never expire and can be used online.")
    d.add_heading("Balance", level=2)
    d.add_paragraph("Check the balance at checkout", style="List Bullet")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Value", "Fee"
    table.cell(1, 0).text, table.cell(1, 1).text = "$50", "none"
    d.save(str(path))
    return path


def test_html_reader_keeps_structure_and_drops_chrome() -> None:
    doc = read_document(HTML.encode(), Path("warranty.html"))
    assert doc.title == "Warranty | Kestrel" and doc.language == "en" and doc.markdown
    assert "# Warranty" in doc.text and "## How to claim" in doc.text
    assert "- Open a ticket" in doc.text and "| Laptop | 2 |" in doc.text
    assert "tracking" not in doc.text and "color" not in doc.text and "Home | Shop" not in doc.text
    assert "©" not in doc.text


def test_pdf_reader(tmp_path: Path) -> None:
    data = minimal_pdf(
        ["Returns are free within 30 days.", "Refunds take 5 business days."], title="Returns policy"
    )
    doc = read_document(data, Path("returns.pdf"))
    assert doc.title == "Returns policy"
    assert "Returns are free within 30 days." in doc.text and "Refunds take 5 business days." in doc.text
    untitled = read_document(minimal_pdf(["Just text."]), Path("notes.pdf"))
    assert untitled.title == "notes" and "Just text." in untitled.text
    with pytest.raises(ReadError, match="PDF"):
        read_document(b"%PDF-1.4 this is not really a pdf", Path("broken.pdf"))
    with pytest.raises(ReadError, match="no text"):
        read_document(minimal_pdf([]), Path("blank.pdf"))


def test_docx_reader(tmp_path: Path) -> None:
    path = minimal_docx(tmp_path / "gift-cards.docx")
    doc = read_document(path.read_bytes(), path)
    assert doc.title == "Gift cards" and doc.markdown
    assert "# Gift cards" in doc.text and "## Balance" in doc.text
    assert "- Check the balance at checkout" in doc.text and "| $50 | none |" in doc.text
    with pytest.raises(ReadError, match="DOCX"):
        read_document(b"PK\x03\x04 not a zip really", Path("broken.docx"))


def test_template_csv_and_json() -> None:
    csv_data = (
        "id,intent,language,title,answer\n"
        'hours-en,opening_hours,EN,Opening hours,"We are open 9-17, Monday to Friday."\n'
        "bad,,en,No intent,Nothing\n"
    )
    templates, problems = read_templates(csv_data.encode(), Path("templates-hours.csv"))
    assert [(t.id, t.language) for t in templates] == [("hours-en", "en")] and "9-17, Monday" in templates[
        0
    ].answer
    assert problems == ["entry 2: missing field(s) intent"]
    rows = [
        {"id": "fee-en", "intent": "fees", "language": "en", "title": "Fees", "answer": "No fees."},
        {"id": "fee-en", "intent": "fees", "language": "en", "title": "Fees", "answer": "Duplicate."},
    ]
    templates, problems = read_templates(json.dumps({"templates": rows}).encode(), Path("templates.json"))
    assert [t.answer for t in templates] == ["No fees."] and "duplicate id" in problems[0]
    with pytest.raises(ReadError, match="malformed JSON"):
        read_templates(b"[{", Path("templates.json"))
    with pytest.raises(ReadError, match="no valid templates"):
        read_templates(b"id,intent\nx,y\n", Path("templates.csv"))


def test_ingest_all_types_with_a_progress_bar(
    tmp_path: Path, minilm: Embedder, capsys: pytest.CaptureFixture
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "warranty.html").write_text(HTML, encoding="utf-8")
    (docs / "returns.pdf").write_bytes(
        minimal_pdf(["Returns are free within 30 days of delivery."], "Returns")
    )
    minimal_docx(docs / "gift-cards.docx")
    (docs / "templates.csv").write_text(
        "id,intent,language,title,answer\nhours-en,opening_hours,en,Opening hours,We are open from 9 to 5.\n",
        encoding="utf-8",
    )
    (docs / "templates-fees.json").write_text(
        json.dumps(
            [
                {
                    "id": "fee-en",
                    "intent": "fees",
                    "language": "en",
                    "title": "Fees",
                    "answer": "There are no card fees.",
                }
            ]
        )
    )
    kb = KnowledgeBase(tmp_path / "kb", embedder=minilm)
    report = kb.ingest([docs], progress=True)
    assert report.errors == [] and report.added == 5
    err = capsys.readouterr().err
    assert "Ingesting" in err and "5/5" in err
    assert kb.search("how long is the laptop warranty?", k=1)[0].uri.endswith("warranty.html")
    assert kb.search("are returns free?", k=1)[0].uri.endswith("returns.pdf")
    assert kb.search("do gift cards expire?", k=1)[0].uri.endswith("gift-cards.docx")
    assert {t.id for t in kb.templates()} == {"hours-en", "fee-en"}
    quiet = kb.ingest([docs])
    assert quiet.unchanged == 5 and "Ingesting" not in capsys.readouterr().err


# "Billion laughs": five levels of nine aliases, 9**5 strings once expanded (real ones go to 9**9 and beyond).
ALIAS_BOMB = (
    "---\ntitle: Bomb\na: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n"
    + "".join(f"{b}: &{b} [{', '.join(['*' + a] * 9)}]\n" for a, b in zip("abcd", "bcde", strict=True))
    + "tags: *e\n---\n# Body\n\nText.\n"
)


def test_front_matter_with_aliases_is_refused_before_it_expands() -> None:
    with pytest.raises(ReadError, match=r"anchors and aliases .* are not allowed"):
        read_document(ALIAS_BOMB.encode(), Path("bomb.md"))


def test_oversized_front_matter_is_refused() -> None:
    text = "---\ntitle: Big\ntags: [" + ", ".join(["x" * 20] * 2000) + "]\n---\n# Body\n\nText.\n"
    with pytest.raises(ReadError, match=r"front matter longer than 16 KB"):
        read_document(text.encode(), Path("big.md"))


def test_ordinary_front_matter_still_reads() -> None:
    doc = read_document(
        b"---\ntitle: Returns\nlanguage: EN\ntags: [a, b]\n---\n# Body\n\nText.\n", Path("r.md")
    )
    assert (doc.title, doc.language, doc.tags) == ("Returns", "en", ["a", "b"])


def test_template_yaml_with_aliases_is_refused() -> None:
    text = "- &t {id: a, intent: i, language: en, title: T, answer: A}\n- {<<: *t, id: b}\n"
    with pytest.raises(ReadError, match=r"malformed YAML: anchors and aliases"):
        read_templates(text.encode(), Path("templates.yaml"))


# -- issue #18 item 8: sources customers can open ------------------------------------------------------------
PRUNING = "---\ntitle: Pruning roses\nurl: https://garden.example/guides/pruning?lang=en#roses\n---\n{body}"
ROSES = (
    "# Pruning roses\n\nPrune roses in late winter, just above an outward-facing bud, with clean secateurs.\n"
)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        " JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "/guides/pruning",
        "guides/pruning.html",
        "ftp://garden.example/pruning",
        "https://garden.example/a b",
        "https://",
        "[https://garden.example]",
    ],
)
def test_front_matter_url_must_be_an_absolute_http_url(url: str) -> None:
    text = f"---\ntitle: Pruning\nurl: {json.dumps(url)}\n---\n{ROSES}"
    with pytest.raises(ReadError, match=r"front matter url"):
        read_document(text.encode(), Path("pruning.md"))


def test_front_matter_url_and_html_canonical_link_are_read() -> None:
    doc = read_document(PRUNING.format(body=ROSES).encode(), Path("pruning.md"))
    assert doc.url == "https://garden.example/guides/pruning?lang=en#roses" and doc.title == "Pruning roses"
    assert read_document(ROSES.encode(), Path("roses.md")).url is None
    page = HTML.replace("</title>", '</title><link rel="canonical" href="https://kestrel.example/warranty">')
    assert read_document(page.encode(), Path("warranty.html")).url == "https://kestrel.example/warranty"
    sneaky = HTML.replace("</title>", '</title><link rel="canonical" href="javascript:alert(1)">')
    assert read_document(sneaky.encode(), Path("warranty.html")).url is None  # no link, still ingested


def test_ingest_keeps_each_documents_public_path_and_url(tmp_path: Path, minilm: Embedder) -> None:
    """Hits carry the path relative to the ingested folder and the front matter URL; a `javascript:` URL
    refuses its file with a clear error; the server path stays in `uri` for admins only."""
    docs = tmp_path / "garden"
    (docs / "en").mkdir(parents=True)
    (docs / "en" / "pruning.md").write_text(PRUNING.format(body=ROSES), encoding="utf-8")
    (docs / "en" / "watering.md").write_text(
        "# Watering tomatoes\n\nWater tomato plants deeply twice a week at the base, never on the leaves.\n",
        encoding="utf-8",
    )
    (docs / "evil.md").write_text(
        "---\ntitle: Compost\nurl: javascript:alert(1)\n---\n# Compost\n\nTurn the compost heap monthly.\n",
        encoding="utf-8",
    )
    kb = KnowledgeBase(tmp_path / "kb", embedder=minilm, multilingual=False)
    report = kb.ingest([docs])
    assert report.added == 2
    assert [Path(e["path"]).name for e in report.errors] == ["evil.md"]
    assert "front matter url" in report.errors[0]["error"] and "http" in report.errors[0]["error"]
    rose = kb.search("when should I prune roses?", k=1)[0]
    assert (rose.path, rose.url) == ("en/pruning.md", "https://garden.example/guides/pruning?lang=en#roses")
    tomato = kb.search("how often do I water tomatoes?", k=1)[0]
    assert (tomato.path, tomato.url) == ("en/watering.md", "")
    assert tomato.uri == str(docs / "en" / "watering.md")
    assert not kb.search("how often do I turn the compost heap?", k=3) or all(
        h.title != "Compost" for h in kb.search("how often do I turn the compost heap?", k=3)
    )
    # An edit keeps the public path and URL; re-ingesting the same folder changes nothing.
    doc = next(d for d in kb.documents() if d["uri"].endswith("pruning.md"))
    kb.edit_document(doc["id"], "# Pruning roses\n\nPrune roses in March above an outward bud.\n", "test")
    kb.publish("test")
    rose = kb.search("when should I prune roses?", k=1)[0]
    assert "March" in rose.text and rose.path == "en/pruning.md" and rose.url.startswith("https://garden.")
    assert kb.ingest([docs]).unchanged == 2
