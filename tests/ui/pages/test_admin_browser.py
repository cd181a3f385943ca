"""The admin console in a real browser (Debian's Chromium driven by Playwright) against `lepton serve`:
admin-key login, editing and publishing a template, an agent's reply reaching the customer's chat page, one
review answering every copy of a question, and promoting / rolling back the generator's adapters."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
TIMEOUT_MS = 60_000


def create_admin_key(home: Path) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "ui.cli", "keys", "create", "--kind", "admin", "--home", str(home)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return out.stdout.strip().splitlines()[-1]


def chat(url: str, message: str, session_id: str | None = None) -> dict:
    r = httpx.post(f"{url}/v1/chat", json={"message": message, "session_id": session_id}, timeout=120)
    assert r.status_code == 200, r.text
    return r.json()


def login(page, url: str, key: str) -> None:
    page.goto(f"{url}/admin/", wait_until="domcontentloaded")
    page.get_by_label("username").first.fill("alice", timeout=TIMEOUT_MS)
    page.get_by_label("password").first.fill(key)
    page.get_by_role("button", name="Login").click()


def click_cell(page, table: str, text: str) -> None:
    """Click the visible table cell of `#table` that contains `text` (Gradio 6 renders rows as div.body-cell; a hidden sizing table repeats the text)."""
    page.locator(f"#{table} .body-cell", has_text=text).first.click(timeout=TIMEOUT_MS)


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()


# -- the flows (plain functions, so they can also be run against any live server) ----------------------------
def check_login(browser, url: str, key: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    login(page, url, "lk_admin_not-a-real-key")
    page.get_by_text("Incorrect", exact=False).first.wait_for(timeout=TIMEOUT_MS)
    assert page.locator("#admin-header").count() == 0
    # A real key opens the console (the form was cleared by the failed attempt).
    page.get_by_label("username").first.fill("alice")
    page.get_by_label("password").first.fill(key)
    page.get_by_role("button", name="Login").click()
    header = page.locator("#admin-header")
    header.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function(
        "() => /customer turns/.test(document.querySelector('#admin-header').innerText)", timeout=TIMEOUT_MS
    )
    # The console's API is behind the same login: without the cookie its config is refused.
    assert httpx.get(f"{url}/admin/config", timeout=30).status_code in (401, 403)
    context.close()


def check_template_edit_and_publish(browser, url: str, key: str) -> None:
    marker = f"ref-{uuid.uuid4().hex[:8]}"
    context = browser.new_context()
    page = context.new_page()
    login(page, url, key)
    page.locator("#admin-header").wait_for(timeout=TIMEOUT_MS)
    page.locator("#kb-list .body-cell", has_text="tpl-").first.wait_for(
        timeout=TIMEOUT_MS
    )  # the list has loaded
    page.locator("#kb-filter textarea, #kb-filter input").first.fill("tpl-greeting-en")
    page.locator("#kb-filter textarea, #kb-filter input").first.press("Enter")
    click_cell(page, "kb-list", "tpl-greeting-en")
    body = page.locator("#kb-body textarea")
    page.wait_for_function(
        "() => /welcome to Kestrel/i.test(document.querySelector('#kb-body textarea').value)",
        timeout=TIMEOUT_MS,
    )
    original = body.input_value()
    body.fill(f"{original} Ask me about orders, returns or warranty ({marker}).")

    # A draft is not live.
    page.locator("#kb-save").click()
    page.locator("#kb-result").get_by_text("Draft of", exact=False).wait_for(timeout=TIMEOUT_MS)
    before = chat(url, "hello")
    assert before["route"] == "smalltalk", before
    assert marker not in before["reply"]

    # Published, it is what customers get.
    page.locator("#kb-publish").click()
    page.locator("#kb-result").get_by_text("is live", exact=False).wait_for(timeout=TIMEOUT_MS)
    after = chat(url, "hello")
    assert after["route"] == "smalltalk" and marker in after["reply"], after
    assert any(s["id"] == "tpl-greeting-en" for s in after["sources"])

    # The audit log has the publish; rolling back restores the original answer.
    page.get_by_role("tab", name="Audit log").click()
    page.locator("#kb-audit-refresh").click()
    page.locator("#kb-audit .body-cell", has_text=re.compile(r"^\s*publish\s*$")).first.wait_for(
        timeout=TIMEOUT_MS
    )
    page.get_by_role("tab", name="Versions").click()
    page.locator("#kb-versions .body-cell", has_text="live").first.wait_for(timeout=TIMEOUT_MS)
    page.locator("#kb-rollback").click()  # the version before the live one is preselected
    page.locator("#kb-rollback-result").get_by_text("Rolled back", exact=False).wait_for(timeout=TIMEOUT_MS)
    restored = chat(url, "hello")
    assert marker not in restored["reply"] and restored["reply"].strip() == original.strip(), restored
    context.close()


def check_agent_reply_reaches_customer(browser, url: str, key: str) -> None:
    tag = uuid.uuid4().hex[:6]
    customer = browser.new_context().new_page()
    customer.goto(url, wait_until="domcontentloaded")
    box = customer.locator("#message textarea")
    box.wait_for(timeout=TIMEOUT_MS)
    box.fill("I want to talk to a real person please")
    customer.locator("#send").click()
    customer.wait_for_function(
        "() => /connecting you|support team/i.test(document.querySelector('#chat').innerText)",
        timeout=120_000,
    )
    # While the session waits for a person, the bot stays quiet; this message identifies the session.
    box.fill(f"my blender order, ticket {tag}")
    customer.locator("#send").click()
    customer.wait_for_function(
        "() => /with our support team now/i.test(document.querySelector('#chat').innerText)", timeout=120_000
    )

    admin = browser.new_context().new_page()
    login(admin, url, key)
    admin.locator("#admin-header").wait_for(timeout=TIMEOUT_MS)
    open_tab(admin, "Agent view")
    admin.get_by_role("button", name="Refresh").last.click()
    click_cell(admin, "ag-list", tag)
    admin.locator("#ag-chat").get_by_text(tag, exact=False).first.wait_for(timeout=TIMEOUT_MS)
    reply = f"Hi, this is Sam from Kestrel. I have your ticket {tag} open now."
    admin.locator("#ag-text textarea").fill(reply)
    admin.locator("#ag-send").click()
    admin.locator("#ag-chat").get_by_text("Sam from Kestrel", exact=False).first.wait_for(timeout=TIMEOUT_MS)

    # The customer's page shows it within a few seconds (the page polls every 3 s).
    customer.wait_for_function(
        "t => document.querySelector('#chat').innerText.includes(t)",
        arg=f"ticket {tag} open now",
        timeout=30_000,
    )
    assert "Support agent" in customer.locator("#chat").inner_text()

    # Closing hands the session back to the bot.
    status = admin.locator("#ag-status").inner_text()
    session_id = status.split("Session", 1)[1].split("·", 1)[0].strip().strip("`")
    admin.locator("#ag-close").click()
    admin.locator("#ag-status").get_by_text("closed", exact=False).wait_for(timeout=TIMEOUT_MS)
    body = httpx.get(f"{url}/v1/sessions/{session_id}", timeout=30).json()
    assert body["status"] == "closed"
    assert any(tag in m["text"] for m in body["messages"])
    admin.context.close()
    customer.context.close()


def check_review_answers_every_copy(browser, url: str, key: str) -> None:
    tag = uuid.uuid4().hex[:6]
    question = f"do you sell garden gnomes shaped like {tag}"
    first, second = chat(url, question), chat(url, question.upper())  # two customers, one question
    admin = browser.new_context().new_page()
    login(admin, url, key)
    admin.locator("#admin-header").wait_for(timeout=TIMEOUT_MS)
    open_tab(admin, "Review queue")
    admin.locator("#rv-refresh").click()
    click_cell(admin, "rv-table", tag)
    admin.locator("#rv-item").get_by_text("2 pending items", exact=False).wait_for(timeout=TIMEOUT_MS)
    admin.locator("#rv-confirm").click()  # "also the other pending items with this text" is ticked
    admin.locator("#rv-result").get_by_text("and 1 more with the same text", exact=False).wait_for(
        timeout=TIMEOUT_MS
    )
    done = httpx.get(
        f"{url}/v1/admin/review",
        params={"status": "confirmed", "limit": 1000},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    ).json()["items"]
    turns = {i["turn_id"]: i for i in done if tag in i["text"].lower()}
    assert set(turns) == {first["message_id"], second["message_id"]}
    assert {i["label"] for i in turns.values()} == {first["intent"]["name"]}
    assert {i["reviewer"] for i in turns.values()} == {"alice"}
    admin.context.close()


def zero_adapter(dest: Path) -> Path:
    """A real LoRA adapter for the bundled generator that changes nothing (B = 0): the shared server's replies
    stay those of the base model whichever version serves."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from training.bundled_generator import bundled_generator_path

    model = AutoModelForCausalLM.from_pretrained(str(bundled_generator_path()))
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    get_peft_model(model, lora).save_pretrained(str(dest))
    return dest


def pick(page, dropdown: str, option: str) -> None:
    page.locator(f"#{dropdown} input").click()
    page.get_by_role("option", name=option, exact=True).click(timeout=TIMEOUT_MS)


def check_generator_adapters(browser, url: str, key: str, home: Path, tmp: Path) -> None:
    from training.generator_lora import BUNDLED_BASE, generator_registry

    registry = generator_registry(home)
    adapter = zero_adapter(tmp / "adapter")
    first, second = (
        registry.register(
            adapter,
            metrics={"heldout_loss": loss, "heldout_loss_base": 1.5, "pairs": 40, "heldout_pairs": 9},
            data_fingerprint="browser-test",
            config={"base": BUNDLED_BASE},
        )
        for loss in (1.2, 1.1)
    )
    page = browser.new_context().new_page()
    login(page, url, key)
    page.locator("#admin-header").wait_for(timeout=TIMEOUT_MS)
    open_tab(page, "Training")
    page.locator("#ga-status").get_by_text("Generator serving: base model", exact=False).wait_for(
        timeout=TIMEOUT_MS
    )
    page.locator("#ga-table .body-cell", has_text=second).first.wait_for(timeout=TIMEOUT_MS)
    for version in (first, second):
        pick(page, "ga-pick", version)
        page.locator("#ga-promote").click()
        page.locator("#ga-status").get_by_text(f"generator serving {version}", exact=False).wait_for(
            timeout=TIMEOUT_MS
        )
    page.locator("#ga-rollback").click()
    page.locator("#ga-status").get_by_text(f"Rolled back; generator serving {first}", exact=False).wait_for(
        timeout=TIMEOUT_MS
    )
    state = httpx.get(
        f"{url}/v1/admin/generator", headers={"Authorization": f"Bearer {key}"}, timeout=30
    ).json()
    assert state["current"] == state["serving"] == first
    reply = chat(url, "how do I return a damaged lamp")  # the merged adapter generates like the base model
    assert reply["reply"].strip()
    page.context.close()


# -- pytest wiring ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def admin_key(server) -> str:
    return create_admin_key(server.home)


def test_login_needs_an_admin_key(server, browser, admin_key) -> None:
    check_login(browser, server.url, admin_key)


def test_edit_publish_and_roll_back_a_template(server, browser, admin_key) -> None:
    check_template_edit_and_publish(browser, server.url, admin_key)


def test_agent_reply_reaches_the_customer(server, browser, admin_key) -> None:
    check_agent_reply_reaches_customer(browser, server.url, admin_key)


def test_review_answers_every_copy_of_a_question(server, browser, admin_key) -> None:
    check_review_answers_every_copy(browser, server.url, admin_key)


def test_generator_adapters_are_promoted_and_rolled_back(launch, browser, tmp_path) -> None:
    # Adapters belong to the local generator, which `auto` runs only on CUDA: this server runs it anyway.
    local = launch({"LEPTON_GENERATOR__BACKEND": "local"}, name="adapters")
    check_generator_adapters(browser, local.url, create_admin_key(local.home), local.home, tmp_path)


if (
    __name__ == "__main__"
):  # python tests/ui/pages/test_admin_browser.py URL KEY: the flows against a running server
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        for flow in (
            check_login,
            check_template_edit_and_publish,
            check_agent_reply_reaches_customer,
            check_review_answers_every_copy,
        ):
            flow(b, sys.argv[1], sys.argv[2])
            print("ok", flow.__name__)
        b.close()
