"""The exchanges' HTTP session (keeper/exchanges/transport.py build_session): the environment requests would
read on every request (proxies, NO_PROXY, a CA bundle) is read once, when the session is built."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
import requests
from support.factories import make_settings

from keeper.exchanges import bybit
from keeper.exchanges.limits import EndpointLimiter, EndpointRate
from keeper.exchanges.registry import WIRE_RULES, transport_config
from keeper.exchanges.transport import HttpTransport, build_session
from keeper.interface import Exchange


def _session(tmp_path: Path, base_url: str) -> requests.Session:
    settings = make_settings(base_url, tmp_path / "accounts.json", tmp_path / "malformed")
    return build_session(transport_config(settings, Exchange.OKX))


def _environment(monkeypatch: pytest.MonkeyPatch, **values: str | None) -> None:
    """Sets each variable, or removes it when None."""
    for name, value in values.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


def test_build_session__proxy_and_ca_bundle_in_environment__kept_once_per_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _environment(
        monkeypatch,
        HTTPS_PROXY="http://proxy.internal:3128",
        REQUESTS_CA_BUNDLE="/etc/ssl/corp-ca.pem",
        NO_PROXY=None,
        no_proxy=None,
    )

    session = _session(tmp_path, "https://www.okx.com")

    assert session.trust_env is False
    assert session.proxies["https"] == "http://proxy.internal:3128"
    assert session.verify == "/etc/ssl/corp-ca.pem"
    monkeypatch.setenv("HTTPS_PROXY", "http://other:1")  # read once: a later change is not picked up
    assert session.proxies["https"] == "http://proxy.internal:3128"


def test_build_session__host_in_no_proxy__no_proxy_and_default_verification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _environment(
        monkeypatch,
        HTTPS_PROXY="http://proxy.internal:3128",
        NO_PROXY="127.0.0.1,localhost",
        REQUESTS_CA_BUNDLE=None,
        CURL_CA_BUNDLE=None,
    )

    session = _session(tmp_path, "http://127.0.0.1:8080")

    assert session.proxies == {}
    assert session.verify is True


@dataclasses.dataclass
class _Answer:
    """A stand-in for requests.Response."""

    content: bytes
    status_code: int = 200
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


def test_transport__ip_limiter_key__every_request_takes_a_unit_of_it(tmp_path: Path) -> None:
    # Before: Bybit's per-IP limit (600 / 5 s, a 10-minute ban when broken) was left to the 403; 32 workers on
    # many accounts broke it on the crash-day burst, though every per-UID key had room.
    settings = make_settings("http://127.0.0.1:9", tmp_path / "accounts.json", tmp_path / "malformed")
    config = dataclasses.replace(transport_config(settings, Exchange.BYBIT), ip_limiter_key="ip|all")
    limiter = EndpointLimiter({"ip": EndpointRate(2, 400)}, EndpointRate(100, 1000), max_wait_seconds=2)
    transport = HttpTransport("bybit", config, limiter)
    sent: list[float] = []

    def get(url: str, **kwargs: object) -> _Answer:
        sent.append(time.monotonic())
        if "/v5/market/time" in url:  # the clock's first sync: an IP unit too
            return _Answer(b'{"retCode":0,"result":{},"time":%d}' % int(time.time() * 1000))
        return _Answer(b"{}")

    transport.session.get = get  # type: ignore[method-assign, assignment]
    for user in ("a", "b", "c"):  # three UIDs: their own keys never bind
        transport.get("/v5/order/history", "category=linear", lambda q: (q, {}), f"order/history|{user}")

    assert len(sent) == 4  # the clock's sync, then the three orders
    assert sent[3] - sent[0] >= 0.4  # the third and fourth waited for the IP key's window (400 ms + guard)
    assert limiter.available("ip|all") == 0


def test_wire_rules__bybit__ip_key_kept_below_the_ban_threshold() -> None:
    config_key = WIRE_RULES[Exchange.BYBIT].ip_limiter_key
    assert config_key == bybit.IP_KEY
    assert bybit.RATES["market/time"].limit < bybit.IP_LIMIT_PER_5S
    assert bybit.RATES["market/time"].period_ms == 5_000
