"""Bad files for `lepton kb ingest` and bad messages for `lepton chat`: reported and skipped, never a traceback;
the good files next to them are still ingested and the knowledge base keeps working."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TRACEBACK = "Traceback (most recent call last)"
GOOD = "The Kestrel lighthouse lamp runs on a 12 volt adapter and its warranty lasts three years."


def zip_bomb(path: Path, inflated_mb: int = 300) -> None:
    """A valid-looking .docx whose document part inflates to `inflated_mb` MB (a few hundred KB on disk)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="word/document.xml"/></Relationships>',
        )
        with z.open("word/document.xml", "w") as member:
            member.write(
                b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                b'wordprocessingml/2006/main"><w:body>'
            )
            block = b" " * (1 << 20)
            for _ in range(inflated_mb):
                member.write(block)
            member.write(b"</w:body></w:document>")
    path.write_bytes(buf.getvalue())


def bad_files(folder: Path) -> dict[str, str]:
    """Write the bad files (and one good one); returns {file name: what it is}."""
    folder.mkdir(parents=True)
    files = {
        "empty.md": b"",
        "whitespace.txt": b"   \n\n\t \n",
        "binary.md": bytes(range(256)) * 64,
        "latin1.txt": "Caf\xe9 cr\xe8me: returns within 30 days.".encode("latin-1"),
        "templates-broken.yaml": b"- id: a\n  intent: [unclosed\n  answer: {",
        "templates-shape.yaml": b"- just a string\n- 42\n- {id: x}\n",
        "templates-scalar.yaml": b"hello\n",
        "templates-broken.csv": b'id,intent,language,title,answer\n"unterminated,x,en,t,a\nonly,two\n',
        "templates-empty.csv": b"",
        "templates-broken.json": b'{"id": "a", "intent": ',
        "templates-wrong.json": b'{"templates": "not a list"}',
        "templates-types.json": json.dumps(
            [{"id": 5, "intent": None, "language": ["en"], "title": {}, "answer": 3}]
        ).encode(),
        "templates-traversal.json": json.dumps(
            [
                {
                    "id": "../../../../tmp/lepton-pwned",
                    "intent": "x/../../y",
                    "language": "en",
                    "title": "<script>alert(1)</script>",
                    "answer": "{__class__.__mro__} {order_id}",
                }
            ]
        ).encode(),
        "broken.pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\nxref\n0 3\ngarbage"
        + bytes(300),
        "not-really.docx": b"PK\x03\x04 this is not a zip file at all",
        "..dots..md": b"# Dots\n\nA file whose name starts with two dots.\n",
        "evil$(touch pwned).md": b"# Shell\n\nA name with shell syntax in it.\n",
        "-rf.md": b"# Dash\n\nA name that looks like an option.\n",
        "good.md": f"# Lighthouse lamp\n\n{GOOD}\n".encode(),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    with (folder / "huge.md").open("wb") as f:  # sparse: over the 20 MB limit without writing 21 MB
        f.truncate(21 * 1024 * 1024)
    zip_bomb(folder / "bomb.docx")
    return {n: "" for n in [*files, "huge.md", "bomb.docx"]}


def test_ingest_reports_bad_files_and_keeps_the_good_one(fresh_home: Path, run_cli, tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    names = bad_files(folder)
    t = time.perf_counter()
    out = run_cli("kb", "ingest", str(folder), home=fresh_home, timeout=600)
    seconds = time.perf_counter() - t
    text = out.stdout + out.stderr
    assert TRACEBACK not in text, text[-3000:]
    assert out.returncode == 1, (out.returncode, text[-2000:])  # 1 = some files were skipped
    skipped = {line for line in text.splitlines() if "skipped" in line}
    for name in [
        "empty.md",
        "binary.md",
        "huge.md",
        "bomb.docx",
        "broken.pdf",
        "not-really.docx",
        "templates-broken.yaml",
        "templates-broken.json",
    ]:
        assert any(name in line for line in skipped), (name, text[-3000:])
    assert seconds < 300, f"ingest of the bad files took {seconds:.0f} s"
    assert not (Path("/tmp") / "lepton-pwned").exists()
    assert not (folder / "pwned").exists() and not Path("pwned").exists()
    assert names  # every file was offered to the ingester

    found = run_cli("kb", "search", "lighthouse lamp adapter", "--json", home=fresh_home, timeout=300)
    assert found.returncode == 0, found.stderr[-2000:]
    hits = json.loads(found.stdout)
    assert hits and hits[0]["uri"].endswith("good.md"), hits
    again = run_cli("kb", "search", "how long do refunds take", "--json", home=fresh_home, timeout=300)
    assert again.returncode == 0 and json.loads(again.stdout), again.stderr[-2000:]


@pytest.mark.parametrize("message", ["", "   ", "x" * 4001])
def test_chat_cli_refuses_bad_messages_cleanly(fresh_home: Path, run_cli, message: str) -> None:
    out = run_cli("chat", message, home=fresh_home, timeout=300)
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr[-2000:])
    assert TRACEBACK not in out.stderr and "error" in out.stderr.lower()
