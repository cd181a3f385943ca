"""Fixtures of the fault suite: real `lepton serve` processes (tests/conftest.py's `launch`) on copies of the
trained demo home.

The servers here raise the per-IP rate limit through the environment (`LEPTON_RATE_LIMIT_PER_MINUTE`), which
the session's shared `server` fixture cannot do.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import Keys, Proc

ORIGIN = "https://shop.example.com"
FOREIGN = "https://evil.example.net"


@pytest.fixture(scope="session")
def fault_server(launch: Callable[..., Proc]) -> Proc:
    """Generous per-IP limit (load and bad-input tests), strict per-key limit (the widget-key flood test)."""
    return launch({"LEPTON_RATE_LIMIT_KEY_PER_MINUTE": "30"}, name="fault-server", keep=True)


@pytest.fixture(scope="session")
def fault_keys(fault_server: Proc) -> Keys:
    from assistant.keys import KeyStore

    store = KeyStore(fault_server.home / "keys.db")
    return Keys(
        admin=store.create("admin", name="faults"), widget=store.create("widget", [ORIGIN], name="shop")
    )
