"""Fixtures of the security suite: real `lepton serve` processes (tests/conftest.py's `launch`) on copies of the
trained demo home, attacked over HTTP and through Chromium.

Three servers, each with the one policy its tests need: `sec_server` (generous per-IP limit, per-key limit 30),
`limited_server` (per-IP limit 10 a minute, so a flood shows within seconds) and `keyed_server`
(`require_widget_key`). Test files that need another configuration launch their own through `launch`.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import ORIGIN, Keys, Proc


@pytest.fixture(scope="session")
def sec_server(launch: Callable[..., Proc]) -> Proc:
    """Generous per-IP limit (so one test's traffic does not throttle the next), strict per-key limit."""
    return launch({"LEPTON_RATE_LIMIT_KEY_PER_MINUTE": "30"}, name="sec-server", keep=True)


@pytest.fixture(scope="session")
def sec_keys(sec_server: Proc) -> Keys:
    return make_keys(sec_server)


@pytest.fixture(scope="session")
def limited_server(launch: Callable[..., Proc]) -> Proc:
    """Ten customer requests a minute per address: a flood on any customer surface shows at once."""
    return launch({"LEPTON_RATE_LIMIT_PER_MINUTE": "10"}, name="limited-server", keep=True)


@pytest.fixture(scope="session")
def keyed_server(launch: Callable[..., Proc]) -> Proc:
    """Widget keys required: no customer surface answers without one."""
    return launch({"LEPTON_REQUIRE_WIDGET_KEY": "true"}, name="keyed-server", keep=True)


def make_keys(proc: Proc) -> Keys:
    """A fresh admin key and a widget key for ORIGIN on `proc`'s home (the server sees them at once)."""
    from assistant.keys import KeyStore

    store = KeyStore(proc.home / "keys.db")
    return Keys(admin=store.create("admin", name="sec"), widget=store.create("widget", [ORIGIN], name="shop"))
