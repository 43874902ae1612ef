"""An independent client (ccxt 4.5.90) signs requests its own way; the simulator must accept them."""

from __future__ import annotations

import time

import ccxt  # type: ignore[import-untyped]
import pytest
from support.factories import ccxt_linear_market

from keeper.sim.scenarios import ScenarioFile, SimAccount
from keeper.sim.server import SimExchange

DAY_MS = 86_400_000


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


def _first_trade(scenarios: ScenarioFile) -> tuple[dict[str, object], SimAccount]:
    trade = scenarios.binance.trades[0]
    return trade.wire, _owner(scenarios, trade.owner)


def test_ccxt_binanceusdm__fetch_time__simulator_server_time(
    sim: SimExchange, scenarios: ScenarioFile
) -> None:
    _, account = _first_trade(scenarios)
    client = _binance_client(sim, account)
    before = int(time.time() * 1000)
    server = client.fetch_time()
    assert before - 1 <= server <= int(time.time() * 1000) + 1
    assert client.fapiPublicGetTime()["serverTime"] >= server


def test_ccxt_binanceusdm__all_orders_in_window__passes_signature_check_and_returns_order(
    sim: SimExchange, scenarios: ScenarioFile
) -> None:
    order = scenarios.binance.orders[0]
    client = _binance_client(sim, _owner(scenarios, order.owner))
    created = int(order.wire["time"])
    rows = client.fapiPrivateGetAllOrders(
        {"symbol": order.wire["symbol"], "startTime": created - 1000, "endTime": created + 1000}
    )
    assert order.wire in rows


def test_ccxt_binanceusdm__all_orders_span_of_7_days__1127_bad_request(
    sim: SimExchange, scenarios: ScenarioFile
) -> None:
    order = scenarios.binance.orders[0]
    client = _binance_client(sim, _owner(scenarios, order.owner))
    created = int(order.wire["time"])
    with pytest.raises(ccxt.BadRequest, match="-1127"):
        client.fapiPrivateGetAllOrders(
            {"symbol": order.wire["symbol"], "startTime": created, "endTime": created + 7 * DAY_MS}
        )


def test_ccxt_binanceusdm__fetch_my_trades_since_and_end_time__finds_the_old_fill(
    sim: SimExchange, scenarios: ScenarioFile
) -> None:
    wire, account = _first_trade(scenarios)
    client = _binance_client(sim, account)
    market = ccxt_linear_market(str(wire["symbol"]), "USDT")
    client.set_markets([market])
    moment = int(str(wire["time"]))
    trades = client.fetch_my_trades(
        str(market["symbol"]), since=moment - 1000, params={"endTime": moment + 1000}
    )
    assert wire["id"] in [int(t["id"]) for t in trades]
    # since alone: ccxt sends endTime = since + 7 days for linear markets, a span the simulator accepts.
    trades = client.fetch_my_trades(str(market["symbol"]), since=moment - 1000)
    assert wire["id"] in [int(t["id"]) for t in trades]


def test_ccxt_binanceusdm__fetch_my_trades_without_since__only_last_7_days(
    sim: SimExchange, scenarios: ScenarioFile
) -> None:
    # The generated liquidations are 10 to 40 days old: the 7-day default shows none of them.
    wire, account = _first_trade(scenarios)
    client = _binance_client(sim, account)
    market = ccxt_linear_market(str(wire["symbol"]), "USDT")
    client.set_markets([market])
    assert time.time() * 1000 - int(str(wire["time"])) > 7 * DAY_MS
    assert client.fetch_my_trades(str(market["symbol"])) == []
