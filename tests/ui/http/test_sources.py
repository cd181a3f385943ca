"""Issue #18 item 8: the sources customers see are pages they can open, and never a server file path.

A small knowledge base of another domain (a garden shop) behind real uvicorn servers, with and without
`public_base_url`; and the demo served by `lepton serve`, asked over every customer surface."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT, Proc
from tests.ui.http.conftest import serve, variant

PRUNING_URL = "https://garden.example/guides/pruning?lang=en"
BASE = "https://help.garden.example/kb/"
GARDEN = {
    "en/pruning.md": f"---\ntitle: Pruning roses\nurl: {PRUNING_URL}\n---\n# Pruning roses\n\n"
    "Prune roses in late winter, just above an outward-facing bud, with clean secateurs.\n",
    "en/watering.md": "# Watering tomatoes\n\nWater tomato plants deeply twice a week at the base of the "
    "stem, never on the leaves.\n",
    "zh/浇水.md": "---\nlanguage: zh\n---\n# 番茄浇水\n\n番茄每周深浇两次水，浇在根部，不要浇在叶子上。\n",
}
ROSES = "When should I prune my roses?"
TOMATOES = "How often should I water tomato plants?"


@pytest.fixture(scope="module")
def garden(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """An assistant (no generator, no intent model) on the garden knowledge base."""
    from assistant.config import load_settings
    from assistant.pipeline import Assistant

    root = tmp_path_factory.mktemp("garden")
    for name, text in GARDEN.items():
        (root / "kb-files" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "kb-files" / name).write_text(text, encoding="utf-8")
    settings = load_settings(home=root / "home", generator={"backend": "none"}, demo=False)
    assistant = Assistant(settings)
    assistant.warm_up()
    report = assistant.kb.ingest([root / "kb-files"])
    assert report.added == 3 and not report.errors, report
    return assistant


@pytest.fixture(scope="module")
def urls(garden: Any) -> Iterator[dict[str, str]]:
    """Base URLs of two servers on it: "plain" (no public_base_url) and "based" (with one)."""
    from ui.http.app import create_api

    plain = serve(create_api(variant(garden, rate_limit_per_minute=100_000)))
    based = serve(create_api(variant(garden, rate_limit_per_minute=100_000, public_base_url=BASE)))
    with plain as plain_url, based as based_url:
        yield {"plain": plain_url, "based": based_url}


def surfaces(url: str, question: str) -> dict[str, list[dict[str, Any]]]:
    """The sources of one question on every customer surface: REST, SSE, OpenAI (plain and streamed), and
    the session history the widget reads."""
    out: dict[str, list[dict[str, Any]]] = {}
    with httpx.Client(base_url=url, timeout=120) as client:
        r = client.post("/v1/chat", json={"message": question})
        assert r.status_code == 200, r.text
        out["rest"] = r.json()["sources"]
        history = client.get(f"/v1/sessions/{r.json()['session_id']}")
        assert history.status_code == 200, history.text
        out["history"] = history.json()["turns"][-1]["sources"]
        with client.stream("POST", "/v1/chat", json={"message": question, "stream": True}) as s:
            text = "".join(s.iter_text())
        final = re.search(r"event: final\ndata: (.*)\n", text)
        assert final, text[-500:]
        out["sse"] = json.loads(final.group(1))["sources"]
        body = {"model": "lepton", "messages": [{"role": "user", "content": question}]}
        r = client.post("/v1/chat/completions", json=body)
        assert r.status_code == 200, r.text
        out["openai"] = r.json()["lepton"]["sources"]
        with client.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as s:
            chunks = [
                json.loads(line[5:])
                for line in s.iter_lines()
                if line.startswith("data:") and line.strip() != "data: [DONE]"
            ]
        out["openai_stream"] = next(c["lepton"]["sources"] for c in chunks if "lepton" in c)
    return out


def assert_no_server_path(source: dict[str, Any], *paths: Path) -> None:
    """What a customer may see of a source: a public http(s) URL, `kb:<path>` or `template:<id>`."""
    for value in (source["uri"], source.get("url") or ""):
        assert not value.startswith(("/", "\\", "file:")) and not re.match(r"^[A-Za-z]:[\\/]", value), source
        assert not value.endswith((".md", ".html", ".pdf", ".docx", ".txt")), source
        assert ".." not in value.split("?")[0] and all(str(p) not in value for p in paths), source
    assert source["uri"].startswith(("kb:", "template:", "https://", "http://")), source
    assert source.get("url") is None or source["url"].startswith(("https://", "http://")), source


def test_sources_without_a_public_url_are_named_not_located(urls: dict[str, str], garden: Any) -> None:
    """No public_base_url: a document without front matter `url` is `kb:<path>` (no link), on every surface."""
    for surface, sources in surfaces(urls["plain"], TOMATOES).items():
        assert sources, surface
        top = sources[0]
        assert (top["title"], top["uri"], top.get("url")) == ("Watering tomatoes", "kb:en/watering", None), (
            surface,
            top,
        )
        for s in sources:
            assert_no_server_path(s, garden.settings.home, ROOT)
    zh = surfaces(urls["plain"], "番茄多久浇一次水？")["rest"]
    assert zh and zh[0]["uri"] == "kb:zh/浇水" and zh[0].get("url") is None


def test_front_matter_url_is_the_link_on_every_surface(urls: dict[str, str], garden: Any) -> None:
    for server in ("plain", "based"):  # the document's own URL wins over public_base_url
        for surface, sources in surfaces(urls[server], ROSES).items():
            top = sources[0]
            assert (top["title"], top["uri"], top["url"]) == ("Pruning roses", PRUNING_URL, PRUNING_URL), (
                server,
                surface,
                top,
            )
            for s in sources:
                assert_no_server_path(s, garden.settings.home, ROOT)


def test_public_base_url_plus_the_documents_path_is_the_link(urls: dict[str, str], garden: Any) -> None:
    for surface, sources in surfaces(urls["based"], TOMATOES).items():
        top = sources[0]
        assert top["url"] == top["uri"] == "https://help.garden.example/kb/en/watering", (surface, top)
        for s in sources:
            assert_no_server_path(s, garden.settings.home, ROOT)
    zh = surfaces(urls["based"], "番茄多久浇一次水？")["rest"][0]
    assert zh["url"] == "https://help.garden.example/kb/zh/%E6%B5%87%E6%B0%B4"


def test_public_base_url_must_be_http() -> None:
    from pydantic import ValidationError

    from assistant.config import load_settings

    for bad in ("javascript:alert(1)", "/help/", "ftp://help.example.com/", "help.example.com"):
        with pytest.raises(ValidationError, match="public_base_url"):
            load_settings(public_base_url=bad)
    assert load_settings(public_base_url="https://help.example.com/").public_base_url.startswith("https://")


@pytest.mark.slow
def test_demo_server_shows_customers_no_server_path(launch: Callable[..., Proc]) -> None:
    """`lepton serve` on the demo: article sources in English and Chinese, on every surface, name no file."""
    proc = launch(name="sources")
    seen = 0
    for question in (
        "How long do I have to return something I bought?",
        "Can I get a refund to a different card than the one I paid with?",
        "退款一般多久能到账？",
    ):
        for sources in surfaces(proc.url, question).values():
            for s in sources:
                assert_no_server_path(s, proc.home, ROOT)
                seen += not s["uri"].startswith("template:")
    assert seen, "no article was cited: the test proves nothing"


def test_sources_logged_before_public_sources_show_no_server_path() -> None:
    from assistant.sources import logged_source

    old = {"id": "d1-0000", "title": "Returns", "uri": "/srv/lepton/kb/articles/en/return-policy.md"}
    assert logged_source(old) == {**old, "uri": "kb:return-policy"}
    assert logged_source({**old, "uri": "C:\\kb\\faq.md"})["uri"] == "kb:faq"
    for kept in ("kb:en/return-policy", "template:tpl-x-en", "https://help.example.com/returns"):
        assert logged_source({**old, "uri": kept})["uri"] == kept
