"""The exchanges' HTTP session (keeper/transport.py build_session): the environment requests would read on
every request (proxies, NO_PROXY, a CA bundle) is read once, when the session is built."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from keeper_factories import make_settings

from keeper.exchanges.registry import transport_config
from keeper.interface import Exchange
from keeper.transport import build_session


def _session(tmp_path: Path, base_url: str) -> requests.Session:
    settings = make_settings(base_url, tmp_path / "accounts.json", tmp_path / "malformed")
    return build_session(transport_config(settings, Exchange.OKX))


def test_build_session__proxy_and_ca_bundle_in_environment__kept_once_per_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/corp-ca.pem")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    session = _session(tmp_path, "https://www.okx.com")

    assert session.trust_env is False
    assert session.proxies["https"] == "http://proxy.internal:3128"
    assert session.verify == "/etc/ssl/corp-ca.pem"
    monkeypatch.setenv("HTTPS_PROXY", "http://other:1")  # read once: a later change is not picked up
    assert session.proxies["https"] == "http://proxy.internal:3128"


def test_build_session__host_in_no_proxy__no_proxy_and_default_verification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)

    session = _session(tmp_path, "http://127.0.0.1:8080")

    assert session.proxies == {}
    assert session.verify is True
