from __future__ import annotations

from pathlib import Path

import pytest

from knowledge import Embedder, KnowledgeBase, make_embedder

RETURNS_EN = """---
title: How to return an item
tags: [returns]
---

You can return most items within 30 days of delivery for a full refund. Start the return online from
Account > Orders > Return items and print the prepaid shipping label.

## Start your return

1. Sign in and open **Account > Orders**.
2. Pick the order and choose **Return items**.
3. Select a reason and print the label or get a QR code.

## Refund timing

Refunds go back to the original payment method within 5 to 7 business days after the parcel arrives at
our warehouse. Store credit is instant.
"""

SHIPPING_EN = """# Shipping options and costs

Standard shipping is free on orders over $35 and takes 3 to 5 business days. Express shipping costs
$9.99 and arrives in 1 to 2 business days. We ship to all 50 US states and to Canada.

| Option | Price | Time |
|---|---|---|
| Standard | Free over $35 | 3-5 days |
| Express | $9.99 | 1-2 days |
"""

RETURNS_ZH = """---
title: 如何退货
language: zh
---

大多数商品在签收后 30 天内可以退货并获得全额退款。请在“账户 > 订单 > 退货”中申请退货，并打印预付运单。

## 退款时间

退款会在仓库收到包裹后的 5 到 7 个工作日内退回原支付方式。
"""

TEMPLATES = """
slots:
  name:
    pattern: "(?:I'm|I am|my name is) ([A-Z][a-z]+)"
    format: "{1}"
    ignore_case: false
    ask:
      en: What's your name?
  order_id:
    pattern: 'KH-?(\\d{8})'
    format: 'KH-{1}'
    ask:
      en: What's your order number?
templates:
- id: greeting-en
  intent: greeting
  language: en
  title: Greeting
  answer: Hi {name}! How can I help you today?
- id: order-status-en
  intent: order_status
  language: en
  title: Where is my order
  answer: You can track order {order_id} under Account > Orders. Tracking appears once it ships.
"""


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "returns.md").write_text(RETURNS_EN, encoding="utf-8")
    (folder / "shipping.md").write_text(SHIPPING_EN, encoding="utf-8")
    (folder / "zh").mkdir(exist_ok=True)
    (folder / "zh" / "returns-zh.md").write_text(RETURNS_ZH, encoding="utf-8")
    (folder / "templates.yaml").write_text(TEMPLATES, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def minilm() -> Embedder:
    emb = make_embedder("minilm")
    emb.warm_up()
    return emb


@pytest.fixture(scope="module")
def shared_kb(tmp_path_factory: pytest.TempPathFactory, minilm: Embedder) -> tuple[KnowledgeBase, Path]:
    """A KB holding the small corpus; tests using it must not modify it."""
    root = tmp_path_factory.mktemp("shared")
    docs = write_corpus(root / "docs")
    kb = KnowledgeBase(root / "kb", embedder=minilm)
    report = kb.ingest([docs])
    assert report.errors == []
    return kb, docs


def lamp_document(heading: str = "") -> tuple[dict, dict]:
    """A document row and its one unit, as `Store.stage_document` takes them (for tests below the KB)."""
    doc = {"id": "d1", "uri": "/x/a.md", "kind": "document", "title": "Lamps", "language": "en", "tags": "[]"}
    unit = {
        "uid": "d1-0000",
        "doc_id": "d1",
        "kind": "document",
        "ord": 0,
        "title": "Lamps",
        "heading": heading,
        "text": "Our lighthouse lamps ship with a universal power adapter.",
        "language": "en",
        "tags": "[]",
    }
    return doc, unit
