"""Issue #17, findings 1, 2, 5 and 8: the Gradio pages (chat page at `/`, admin console at `/admin`) attacked
through Gradio's own queue, file and upload routes of the real `lepton serve`.

The `pages` server has its own Gradio upload folder (GRADIO_TEMP_DIR), so a test can look for copies of a
server file there and plant files (a symlink) inside it."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Keys, Proc
from tests.security.conftest import make_keys

pytestmark = pytest.mark.slow

BIG = 30 * 1024 * 1024  # over the default upload cap (20 MB)


@dataclass
class Pages:
    proc: Proc
    keys: Keys
    uploads: Path  # the server's Gradio upload folder
    secret: Path  # a file outside it that no request may read

    @property
    def targets(self) -> list[Path]:
        """Server files an attacker names: system, the key pepper, a private file."""
        return [Path("/etc/passwd"), self.proc.home / "keys.pepper", self.secret]


@pytest.fixture(scope="module")
def pages(launch: Callable[..., Proc], tmp_path_factory: pytest.TempPathFactory) -> Pages:
    root = tmp_path_factory.mktemp("pages")
    uploads = root / "gradio-uploads"
    uploads.mkdir()
    proc = launch({"GRADIO_TEMP_DIR": str(uploads)}, name="pages")
    keys = make_keys(proc)  # also writes HOME/keys.pepper
    secret = root / "private" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text(f"lepton-secret-{uuid.uuid4().hex}\n")
    return Pages(proc, keys, uploads, secret)


@pytest.fixture(scope="module")
def console(pages: Pages) -> Iterator[httpx.Client]:
    """A client signed in to the admin console (its Gradio cookie)."""
    with httpx.Client(base_url=pages.proc.url, timeout=120) as client:
        r = client.post("/admin/login", data={"username": "sec", "password": pages.keys.admin})
        assert r.status_code == 200, r.text
        yield client


# -- Gradio's wire protocol ----------------------------------------------------------------------------------
def file_data(path: Path | str) -> dict[str, Any]:
    return {"path": str(path), "orig_name": Path(path).name, "meta": {"_type": "gradio.FileData"}}


def config(client: httpx.Client, prefix: str = "") -> dict[str, Any]:
    r = client.get(f"{prefix}/config")
    assert r.status_code == 200, r.text[:300]
    return r.json()


def event(cfg: dict[str, Any], api_name: str) -> dict[str, Any]:
    """The dependency (event) of a Blocks config by its function's name."""
    found = [d for d in cfg["dependencies"] if d.get("api_name") == api_name]
    assert found, f"no event {api_name!r} in {[d.get('api_name') for d in cfg['dependencies']]}"
    return found[0]


def component_types(cfg: dict[str, Any]) -> dict[int, str]:
    return {c["id"]: c["type"] for c in cfg["components"]}


def queue_call(
    client: httpx.Client,
    dep: dict[str, Any],
    data: list[Any],
    prefix: str = "",
    event_data: Any = None,
    session_hash: str | None = None,
) -> list[dict[str, Any]]:
    """Run one event through `/gradio_api/queue/join` and return its SSE messages (until it completes)."""
    session_hash = session_hash or uuid.uuid4().hex[:11]
    trigger = dep["targets"][0][0] if dep["targets"] else None
    r = client.post(
        f"{prefix}/gradio_api/queue/join",
        json={
            "data": data,
            "fn_index": dep["id"],
            "session_hash": session_hash,
            "event_data": event_data,
            "trigger_id": trigger,
        },
    )
    if r.status_code != 200:
        return [{"msg": "join_refused", "status": r.status_code, "body": r.text}]
    messages = []
    with client.stream("GET", f"{prefix}/gradio_api/queue/data", params={"session_hash": session_hash}) as s:
        for line in s.iter_lines():
            if not line.startswith("data:"):
                continue
            message = json.loads(line[5:])
            messages.append(message)
            if message.get("msg") in ("process_completed", "close_stream", "unexpected_error"):
                break
    return messages


def warnings(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("log", "") for m in messages if m.get("msg") == "log" and m.get("level") == "warning"]


def completed(messages: list[dict[str, Any]]) -> dict[str, Any]:
    done = [m for m in messages if m.get("msg") == "process_completed"]
    assert done, messages
    return done[-1]


def copies_of(folder: Path, originals: list[Path]) -> list[Path]:
    """Files under `folder` (symlinks not followed) whose bytes equal one of `originals`."""
    wanted = {p.read_bytes() for p in originals if p.is_file()}
    found = []
    for dirpath, _, names in os.walk(folder):
        for name in names:
            p = Path(dirpath) / name
            if (
                not p.is_symlink()
                and p.is_file()
                and p.stat().st_size < 10_000_000
                and p.read_bytes() in wanted
            ):
                found.append(p)
    return found


def assert_json_error(r: httpx.Response, statuses: tuple[int, ...]) -> None:
    assert r.status_code in statuses, (r.request.url, r.status_code, r.text[:300])
    body = r.json()
    assert isinstance(body.get("error"), dict) and set(body["error"]) >= {"code", "message"}, (
        r.request.url,
        body,
    )


# -- 1. the chat page reads no server file -------------------------------------------------------------------
def attack_values(target: Path) -> list[Callable[[str], Any]]:
    """Ways to smuggle a server path into an input: as a chat history entry, or as a bare file object."""
    fd = file_data(target)
    return [
        lambda kind: [{"role": "user", "content": [{"type": "file", "file": fd}]}],
        lambda kind: [{"role": "user", "content": fd}],
        lambda kind: fd,
    ]


def test_chat_page_copies_and_serves_no_server_file(pages: Pages) -> None:
    """Every event of the public page, fed a server path in every input it takes, copies nothing into
    Gradio's cache and hands back no file (finding 1)."""
    with httpx.Client(base_url=pages.proc.url, timeout=120) as client:
        cfg = config(client)
        types = component_types(cfg)
        secrets = [t.read_bytes() for t in pages.targets]
        for dep in cfg["dependencies"]:
            for target in pages.targets:
                for make in attack_values(target):
                    data = [make(types[i]) for i in dep["inputs"]]
                    like = {"index": [1, 0], "value": file_data(target), "liked": True}
                    messages = queue_call(client, dep, data, event_data=like)
                    text = json.dumps(messages)
                    assert "gradio_api/file=" not in text, (dep.get("api_name"), target, text[:500])
                    assert not any(s.decode(errors="replace")[:40] in text for s in secrets)
        assert copies_of(pages.uploads, pages.targets) == []
        for target in pages.targets:
            r = client.get(f"/gradio_api/file={target}")
            assert_json_error(r, (403, 404))


def test_file_routes_serve_nothing_outside_the_upload_folder(pages: Pages, console: httpx.Client) -> None:
    """The second line: whatever reaches Gradio's cache, its file routes serve only what lies (symlinks
    resolved) inside the upload folder, only on the console, and never proxy (finding 1)."""
    planted = pages.uploads / "planted"
    planted.mkdir(exist_ok=True)
    inside = planted / "notes.txt"
    inside.write_text("a file the console may show\n")
    link = planted / "link.txt"
    link.unlink(missing_ok=True)
    link.symlink_to(pages.secret)
    outside = [
        *pages.targets,
        link,
        pages.uploads / ".." / "private" / "secret.txt",
        f"{pages.proc.url}/healthz",
    ]
    secret = pages.secret.read_text()
    with httpx.Client(base_url=pages.proc.url, timeout=60) as anonymous:
        for path in [*outside, inside]:
            for route in (
                f"/gradio_api/file={path}",
                f"/gradio_api/file/{path}",
                f"//gradio_api/file={path}",
            ):
                r = anonymous.get(pages.proc.url + route)  # absolute: keeps the double slash
                assert secret not in r.text
                assert_json_error(r, (403, 404))
        assert_json_error(anonymous.get(f"/gradio_api/proxy={pages.proc.url}/healthz"), (403,))
        for path in outside:  # the console's routes: who asks comes first
            assert_json_error(anonymous.get(f"/admin/gradio_api/file={path}"), (401,))
    assert_json_error(console.get(f"/admin/gradio_api/proxy={pages.proc.url}/healthz"), (403,))
    for path in outside:
        for route in (f"/admin/gradio_api/file={path}", f"/admin/gradio_api/file/{path}"):
            r = console.get(pages.proc.url + route)
            assert secret not in r.text
            assert_json_error(r, (403,))
    r = console.get(f"/admin/gradio_api/file={inside}")
    assert r.status_code == 200 and r.text == inside.read_text()


# -- 2. the console ingests only what Gradio received --------------------------------------------------------
def documents(pages: Pages) -> str:
    r = httpx.get(
        f"{pages.proc.url}/v1/admin/kb/documents",
        headers={"Authorization": f"Bearer {pages.keys.admin}"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    return r.text


def test_console_upload_ingests_only_files_gradio_received(pages: Pages, console: httpx.Client) -> None:
    """Server paths (and a symlink planted in the upload folder) sent to the console's upload handler are
    refused and nothing is ingested; a file really uploaded through Gradio still is (finding 2)."""
    cfg = config(console, "/admin")
    upload = event(cfg, "kb_upload")
    planted = pages.uploads / "planted-kb"
    planted.mkdir(exist_ok=True)
    link, inner_link, inner = planted / "guide.md", planted / "faq.md", planted / "real.md"
    inner.write_text("# Real\n\nA file inside the upload folder that Gradio never received.\n")
    for symlink, to in ((link, pages.secret), (inner_link, inner)):
        symlink.unlink(missing_ok=True)
        symlink.symlink_to(to)
    kb_uploads = pages.proc.home / "kb" / "uploads"
    for path in [*pages.targets, link, inner_link]:  # a symlink is refused even when it points inside
        messages = queue_call(console, upload, [[file_data(path)], True], prefix="/admin")
        assert not completed(messages).get("success"), messages[-1]
        names = {p.name for p in kb_uploads.glob("*")} if kb_uploads.exists() else set()
        assert path.name not in names
    listed = documents(pages)
    for name in ("passwd", "keys.pepper", "secret.txt", "guide.md", "faq.md"):
        assert name not in listed
    assert copies_of(pages.proc.home / "kb", pages.targets) == []

    # A real upload: Gradio stores it in its upload folder, and the handler ingests it.
    body = "# Gift wrapping\n\nWe gift-wrap any order for 3 EUR; choose it at checkout.\n"
    r = console.post("/admin/gradio_api/upload", files={"files": ("gift-wrap.md", body.encode())})
    assert r.status_code == 200, r.text
    (stored,) = r.json()
    messages = queue_call(console, upload, [[file_data(stored)], True], prefix="/admin")
    assert completed(messages).get("success"), messages[-1]
    assert "gift-wrap.md" in documents(pages)


# -- 8. uploads: console only, capped ------------------------------------------------------------------------
def test_uploads_need_a_console_session_and_are_capped(pages: Pages, console: httpx.Client) -> None:
    """No anonymous upload on the public page, a console session for the console's, and a size cap on both
    (finding 8)."""
    before = {p for p in pages.uploads.rglob("*")}
    big = b"x" * BIG
    with httpx.Client(base_url=pages.proc.url, timeout=120) as anonymous:
        for path in ("/gradio_api/upload", "//gradio_api/upload", "/gradio_api/upload?upload_id=x"):
            r = anonymous.post(pages.proc.url + path, files={"files": ("small.txt", b"hello")})
            assert_json_error(r, (403, 404))
        try:
            r = anonymous.post("/gradio_api/upload", files={"files": ("big.bin", big)})
            assert_json_error(r, (403, 404, 413))
        except httpx.TransportError:
            pass  # refused before the body was read: the server may close the connection
        r = anonymous.post("/admin/gradio_api/upload", files={"files": ("small.txt", b"hello")})
        assert r.status_code == 401
    try:
        r = console.post("/admin/gradio_api/upload", files={"files": ("big.bin", big)})
        assert_json_error(r, (413,))
    except httpx.TransportError:
        pass

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap must count the bytes
        yield b"--b\r\nContent-Disposition: form-data; name=files; filename=big.bin\r\n\r\n"
        for _ in range(BIG // (1024 * 1024)):
            yield b"x" * (1024 * 1024)
        yield b"\r\n--b--\r\n"

    try:
        r = console.post(
            "/admin/gradio_api/upload",
            content=chunks(),
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )
        assert_json_error(r, (413,))
    except httpx.TransportError:
        pass
    after = {p for p in pages.uploads.rglob("*") if p.is_file() and p.stat().st_size >= 1024 * 1024}
    assert after - before == set()
    r = console.post("/admin/gradio_api/upload", files={"files": ("small.txt", b"hello")})
    assert r.status_code == 200 and Path(r.json()[0]).read_bytes() == b"hello"


# -- 5. one access policy for every customer surface ---------------------------------------------------------
def answered(messages: list[dict[str, Any]]) -> bool:
    """The turn (on a fresh page session) was answered: it completed, and its stream drew a bot reply into the
    chat (the completion itself carries the event's last yield, a "no change": ui/pages/chat.py `respond`)."""
    done = completed(messages)
    if not done.get("success"):
        return False
    # The first update carries the whole chat, later ones diffs ([op, path, value]): any assistant entry counts
    # (a refused turn never adds one: the page warns and leaves the chat alone).
    streamed = [
        json.dumps(m.get("output", {}).get("data")) for m in messages if m.get("msg") == "process_generating"
    ]
    return any('"role": "assistant"' in data for data in streamed)


def test_chat_page_shares_the_rest_rate_limit(limited_server: Proc) -> None:
    """Ten customer requests a minute per address: a flood of page turns is cut off with a warning, and REST
    from the same address is refused too (finding 5)."""
    with httpx.Client(base_url=limited_server.url, timeout=120) as client:
        cfg = config(client)
        respond = event(cfg, "respond")
        types = component_types(cfg)
        results = []
        for _ in range(15):
            data = [
                "How much is express shipping?"
                if types[i] == "textbox"
                else []
                if types[i] == "chatbot"
                else None
                for i in respond["inputs"]
            ]
            results.append(queue_call(client, respond, data))
        served = [answered(m) for m in results]
        assert served[0], results[0]
        assert served.count(False) > 0 and served.count(True) <= 11, served
        refused = [m for m, ok in zip(results, served, strict=True) if not ok]
        assert all(any("Too many" in w for w in warnings(m)) for m in refused), refused[-1]
        r = client.post("/v1/chat", json={"message": "How much is express shipping?"})
        assert_json_error(r, (429,))


def test_no_public_chat_page_when_widget_keys_are_required(keyed_server: Proc) -> None:
    """With `require_widget_key` the page is off (it cannot hold a key); the widget stays (finding 5)."""
    with httpx.Client(base_url=keyed_server.url, timeout=60) as client:
        for path in ("/", "/config", "/gradio_api/info"):
            assert_json_error(client.get(path), (404,))
        r = client.post(
            "/gradio_api/queue/join",
            json={"data": ["hi", [], None, None], "fn_index": 0, "session_hash": "abcdefghijk"},
        )
        assert_json_error(r, (404,))
        assert client.get("/widget.js").status_code == 200
        assert_json_error(client.post("/v1/chat", json={"message": "hi"}), (401,))
        assert client.get("/admin/").status_code == 200
