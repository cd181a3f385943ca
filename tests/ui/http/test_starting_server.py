"""A server still starting (issue #20 item 1): every customer call says so with a 503 in the API's error shape,
with the stage and progress a client shows ("Getting ready…"), never a 500 or a broken stream; and a widget's
origin may read /healthz to learn when it is ready."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.config import load_settings
from assistant.keys import KeyStore
from assistant.pipeline import Assistant
from tests.ui.http.conftest import FOREIGN, ORIGIN
from ui.http.app import create_api


@pytest.fixture(scope="module")
def starting(tmp_path_factory: pytest.TempPathFactory) -> tuple[TestClient, Assistant]:
    """The API of an assistant that never warms up, in its "loading the knowledge base" stage."""
    home = tmp_path_factory.mktemp("starting") / "home"
    assistant = Assistant(load_settings(home=home, generator={"backend": "none"}, demo=False))
    KeyStore(Path(home) / "keys.db").create("widget", [ORIGIN], name="shop")
    assistant.startup.advance("loading the knowledge base")
    return TestClient(create_api(assistant), raise_server_exceptions=False), assistant


def _says_starting(response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    error = response.json()["error"]
    assert error["code"] == "starting" and error["message"]
    assert error["stage"] == "loading the knowledge base" and error["progress"] == 0.25


@pytest.mark.parametrize("stream", [False, True])
def test_chat_while_starting_is_a_503_with_the_stage(starting, stream: bool) -> None:
    http, _ = starting
    _says_starting(http.post("/v1/chat", json={"message": "where is my order?", "stream": stream}))


def test_other_customer_calls_while_starting_say_the_same(starting) -> None:
    http, _ = starting
    _says_starting(http.get("/v1/sessions/some-session"))
    for stream in (False, True):
        body = {"model": "lepton", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
        _says_starting(http.post("/v1/chat/completions", json=body))
    # Bad input is still a 4xx: it is checked first.
    assert http.post("/v1/chat", json={"message": "", "stream": True}).status_code == 422


def test_a_widget_origin_may_read_healthz_and_no_other(starting) -> None:
    http, _ = starting
    health = http.get("/healthz", headers={"Origin": ORIGIN})
    assert health.status_code == 503 and health.headers["access-control-allow-origin"] == ORIGIN
    assert health.json()["status"] == "starting" and health.json()["stage"] == "loading the knowledge base"
    foreign = http.get("/healthz", headers={"Origin": FOREIGN})
    assert "access-control-allow-origin" not in foreign.headers
