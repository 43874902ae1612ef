"""An independent client (ccxt 4.5.90) signs requests its own way; the simulator must accept them."""

from __future__ import annotations

import ccxt  # type: ignore[import-untyped]
import pytest

from keeper.sim.scenarios import ScenarioFile, SimAccount
from keeper.sim.server import SimExchange


def _owner(scenarios: ScenarioFile, api_key: str) -> SimAccount:
    return next(a for a in scenarios.accounts if a.api_key == api_key)


def _binance_client(sim: SimExchange, account: SimAccount) -> ccxt.binanceusdm:
    base = sim.url
    urls = {
        name: f"{base}/fapi/{version}"
        for name, version in (
            ("fapiPublic", "v1"),
            ("fapiPublicV2", "v2"),
            ("fapiPrivate", "v1"),
            ("fapiPrivateV2", "v2"),
            ("fapiPrivateV3", "v3"),
        )
    }
    return ccxt.binanceusdm(
        {
            "apiKey": account.api_key,
            "secret": account.secret,
            "urls": {"api": urls},
            "options": {"fetchCurrencies": False},
        }
    )


def _okx_client(sim: SimExchange, account: SimAccount, secret: str | None = None) -> ccxt.okx:
    return ccxt.okx(
        {
            "apiKey": account.api_key,
            "secret": secret or account.secret,
            "password": account.passphrase,
            "urls": {"api": {"rest": sim.url}},
        }
    )


def test_ccxt_okx__fetch_order__passes_simulator_signature_check(
    sim: SimExchange, scenarios: ScenarioFile
) -> None:
    order = scenarios.okx.orders[0]
    client = _okx_client(sim, _owner(scenarios, order.owner))
    response = client.private_get_trade_order({"instId": order.wire["instId"], "ordId": order.wire["ordId"]})
    assert response["code"] == "0"
    assert response["data"] == [order.wire]


def test_ccxt_okx__wrong_secret__authentication_error_from_simulator(
    sim: SimExchange, scenarios: ScenarioFile
) -> None:
    order = scenarios.okx.orders[0]
    client = _okx_client(sim, _owner(scenarios, order.owner), secret="WRONG")
    with pytest.raises(ccxt.AuthenticationError, match="50113"):
        client.private_get_trade_order({"instId": order.wire["instId"], "ordId": order.wire["ordId"]})


def test_ccxt_binanceusdm__fetch_order__passes_simulator_signature_check(
    sim: SimExchange, scenarios: ScenarioFile
) -> None:
    order = scenarios.binance.orders[0]
    client = _binance_client(sim, _owner(scenarios, order.owner))
    response = client.fapiprivate_get_order(
        {"symbol": order.wire["symbol"], "orderId": order.wire["orderId"]}
    )
    assert response == order.wire


def test_ccxt_binanceusdm__unknown_order__order_not_found(sim: SimExchange, scenarios: ScenarioFile) -> None:
    order = scenarios.binance.orders[0]
    client = _binance_client(sim, _owner(scenarios, order.owner))
    with pytest.raises(ccxt.OrderNotFound, match="-2013"):
        client.fapiprivate_get_order({"symbol": order.wire["symbol"], "orderId": 1})
