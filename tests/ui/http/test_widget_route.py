"""`GET /widget.js` (ui/http/widget_route.py): the brand inlined safely, gzip when accepted, ETag/304."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.config import BrandSettings, Settings
from ui.http import widget_route
from ui.http.widget_route import PLACEHOLDER, READY_PLACEHOLDER, WIDGET, accepts_gzip, widget_router

HOSTILE = BrandSettings(
    name="</script><img src=x onerror=alert(1)>",
    greeting={"en": '"; alert(1); "', "zh": "\u2028}); alert(2); //"},
    suggestions=["<!-- <script>", "*/ alert(3) /*"],
)


def client(brand: BrandSettings, tmp_path: Path) -> TestClient:
    app = FastAPI()
    app.include_router(widget_router(Settings(home=tmp_path, brand=brand)))
    return TestClient(app)


def inlined(code: str) -> dict:
    """The brand object the served script holds."""
    match = re.search(r"var BRAND = (\{.*?\});\n", code)
    assert match, "no brand in the served widget"
    return json.loads(match.group(1))


def test_the_stored_file_holds_one_placeholder() -> None:
    assert WIDGET.read_text().count(PLACEHOLDER) == 1
    assert WIDGET.read_text().count(READY_PLACEHOLDER) == 1


def test_the_start_up_texts_are_the_chat_pages_in_each_language(tmp_path: Path) -> None:
    """The widget says "Getting ready… <stage> (NN %)" as the chat page does (assistant/messages.py)."""
    code = client(BrandSettings(), tmp_path).get("/widget.js").text
    match = re.search(r"var READY = (\{.*?\});\n", code)
    assert match, "no start-up texts in the served widget"
    ready = json.loads(match.group(1))
    assert ready["en"]["text"] == "Getting ready… {stage} ({percent} %)"
    assert ready["zh"]["text"] == "正在准备…{stage}（{percent}%）"
    assert ready["en"]["stages"]["loading the generator"] == "loading the answer writer"
    assert ready["zh"]["stages"]["loading the knowledge base"] == "加载知识库"
    assert ready["zh"]["stages"]["starting"] == "正在启动" and ready["zh"]["gaveUp"].startswith("抱歉")
    assert "<" not in match.group(1) and all(ord(c) < 128 for c in match.group(1))


def test_plain_and_gzip_with_vary_cache_and_etag(tmp_path: Path) -> None:
    http = client(BrandSettings(name="Acme"), tmp_path)
    plain = http.get("/widget.js", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    assert plain.headers["content-type"].startswith("application/javascript")
    assert "max-age=300" in plain.headers["cache-control"]
    assert plain.headers["vary"] == "Accept-Encoding"
    assert inlined(plain.text)["name"] == "Acme"

    packed = http.get("/widget.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert packed.headers["content-encoding"] == "gzip" and packed.headers["vary"] == "Accept-Encoding"
    assert packed.content == plain.content  # httpx decoded it
    assert int(packed.headers["content-length"]) < len(plain.content) / 2
    assert packed.headers["etag"] == plain.headers["etag"] and packed.headers["etag"].startswith('W/"')

    again = http.get(
        "/widget.js", headers={"If-None-Match": plain.headers["etag"], "Accept-Encoding": "gzip"}
    )
    assert again.status_code == 304 and not again.content and again.headers["etag"] == plain.headers["etag"]
    assert http.get("/widget.js", headers={"If-None-Match": 'W/"other"'}).status_code == 200


@pytest.mark.parametrize(
    ("header", "gzipped"),
    [
        ("", False),
        ("gzip", True),
        ("GZIP;q=0.5, br", True),
        ("gzip;q=0", False),
        ("*", True),
        ("br, *;q=0", False),
        ("deflate", False),
        ("gzip;q=0, *", False),
    ],
)
def test_accept_encoding(header: str, gzipped: bool) -> None:
    assert accepts_gzip(header) is gzipped


def test_compressed_once_per_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = gzip.compress

    def counting(data: bytes, *args: object, **kwargs: object) -> bytes:
        calls.append(len(data))
        return real(data, *args, **kwargs)

    monkeypatch.setattr(widget_route.gzip, "compress", counting)
    http = client(BrandSettings(), tmp_path)
    for _ in range(3):
        assert (
            http.get("/widget.js", headers={"Accept-Encoding": "gzip"}).headers["content-encoding"] == "gzip"
        )
    assert len(calls) == 1


def test_no_setting_breaks_out_of_the_script(tmp_path: Path) -> None:
    code = client(HOSTILE, tmp_path).get("/widget.js").text
    brand = inlined(code)
    assert brand["name"] == HOSTILE.name and brand["greeting"] == HOSTILE.greeting
    assert brand["suggestions"]["en"] == ["<!-- <script>", "*/ alert(3) /*"]
    start, end = code.index("var BRAND = "), code.index(";\n", code.index("var BRAND = "))
    injected = code[start:end]
    assert injected.isascii() and not re.search(r"[<>&\u2028\u2029]", injected)
    stored = WIDGET.read_text()  # its header comment shows the <script> tag: nothing more than that
    for markup in ("</script", "<img", "<!--"):
        assert code.count(markup) == stored.count(markup), markup


def test_the_default_brand_and_no_schema_entry(tmp_path: Path) -> None:
    app = FastAPI()
    app.include_router(widget_router(Settings(home=tmp_path)))
    assert "/widget.js" not in app.openapi()["paths"]
    brand = inlined(TestClient(app).get("/widget.js").text)
    assert brand == {"name": "", "color": "#2b59c3", "avatar": "", "greeting": {}, "suggestions": {}}
