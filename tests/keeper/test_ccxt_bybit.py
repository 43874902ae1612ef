"""ccxt 4.5.90's ``bybit`` client, pointed at the simulator, signs its own way (HMAC hex, or RSA when the
secret is a PEM: ``ccxt/bybit.py`` ``sign()``) and reads orders and executions: the simulator's Bybit wire is
what an independent client expects."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ccxt  # type: ignore[import-untyped]
import pytest
from support.factories import ccxt_linear_market

from keeper.sim.generator import generate_edge_cases
from keeper.sim.scenarios import ScenarioFile, SimAccount
from keeper.sim.server import SimExchange, SimLimits

DAY_MS = 86_400_000


@pytest.fixture(scope="module")
def edge() -> ScenarioFile:
    # The simulator runs on the real clock here (ccxt signs with it): the scenarios are generated for now.
    return generate_edge_cases(7_2026, int(time.time()))


@pytest.fixture
def sim(edge: ScenarioFile) -> Iterator[SimExchange]:
    exchange = SimExchange(edge, limits=SimLimits()).start()
    yield exchange
    exchange.stop()


def _client(sim: SimExchange, account: SimAccount, secret: str | None = None) -> ccxt.bybit:
    """ccxt's bybit on the simulator: every API family on its URL, the account mode given (so ccxt does not
    ask /v5/user/query-api), no market loading."""
    urls = {name: sim.url for name in ("spot", "futures", "v2", "public", "private")}
    return ccxt.bybit(
        {
            "apiKey": account.api_key,
            "secret": secret if secret is not None else (account.private_key_pem or account.secret),
            "urls": {"api": urls},
            "options": {
                "enableUnifiedAccount": True,
                "enableUnifiedMargin": False,
                "fetchMarkets": {"types": []},
                "loadAllOptions": False,
            },
        }
    )


def _order(edge: ScenarioFile, scenario: str) -> tuple[dict[str, Any], SimAccount]:
    claim = next(e.claim for e in edge.expected if e.scenario == f"bybit:{scenario}")
    record = next(o for o in edge.bybit.orders if o.wire["orderId"] == claim["order_id"])
    return record.wire, next(a for a in edge.accounts if a.api_key == record.owner)


def _fills(edge: ScenarioFile, order: dict[str, Any]) -> list[dict[str, Any]]:
    return [e.wire for e in edge.bybit.executions if e.wire["orderId"] == order["orderId"]]


def test_ccxt_bybit__order_history__hmac_signature_accepted(sim: SimExchange, edge: ScenarioFile) -> None:
    order, owner = _order(edge, "takeover_20_days_old_needs_windows")
    assert owner.private_key_pem is None
    created = int(order["createdTime"])
    response = _client(sim, owner).privateGetV5OrderHistory(
        {
            "category": "linear",
            "symbol": order["symbol"],
            "orderId": order["orderId"],
            "startTime": created - DAY_MS,
            "endTime": created + DAY_MS,
        }
    )
    assert (response["retCode"], response["retMsg"]) == (0, "OK")
    assert response["result"]["list"] == [order]
    assert response["result"]["list"][0]["createType"] == "CreateByTakeOver_PassThrough"


def test_ccxt_bybit__execution_list__rsa_private_key_signature_accepted(
    sim: SimExchange, edge: ScenarioFile
) -> None:
    order, owner = _order(edge, "rsa_key_account")
    assert owner.private_key_pem is not None and owner.secret == ""
    response = _client(sim, owner).privateGetV5ExecutionList(
        {"category": "linear", "orderId": order["orderId"]}
    )
    assert response["result"]["list"] == sorted(
        _fills(edge, order), key=lambda f: int(f["execTime"]), reverse=True
    )
    assert {f["execType"] for f in response["result"]["list"]} == {"BustTrade"}


def test_ccxt_bybit__fetch_order_trades__bust_trades_parsed_with_fees(
    sim: SimExchange, edge: ScenarioFile
) -> None:
    order, owner = _order(edge, "laddered_then_takeover__takeover")
    client = _client(sim, owner)
    client.set_markets([ccxt_linear_market(order["symbol"], "USDT")])
    # ccxt adds execType=Trade; with an orderId Bybit ignores every other filter, so the BustTrades come back.
    trades = client.fetch_order_trades(order["orderId"], client.markets_by_id[order["symbol"]][0]["symbol"])
    fills = _fills(edge, order)
    assert len(trades) == len(fills)
    assert sum(Decimal(str(t["amount"])) for t in trades) == Decimal(order["cumExecQty"])
    assert {t["order"] for t in trades} == {order["orderId"]}
    assert sorted(Decimal(str(t["fee"]["cost"])) for t in trades) == sorted(
        Decimal(f["execFee"]) for f in fills
    )
    assert {t["fee"]["currency"] for t in trades} == {"USDT"}


def test_ccxt_bybit__fetch_closed_order__from_order_history(sim: SimExchange, edge: ScenarioFile) -> None:
    order, owner = _order(edge, "takeover_2_days_old")
    client = _client(sim, owner)
    client.set_markets([ccxt_linear_market(order["symbol"], "USDT")])
    symbol = client.markets_by_id[order["symbol"]][0]["symbol"]
    parsed = client.fetch_closed_order(order["orderId"], symbol)
    assert (parsed["id"], parsed["status"], parsed["symbol"]) == (order["orderId"], "closed", symbol)
    assert Decimal(str(parsed["filled"])) == Decimal(order["cumExecQty"])


def test_ccxt_bybit__wrong_secret__authentication_error_10004(sim: SimExchange, edge: ScenarioFile) -> None:
    order, owner = _order(edge, "takeover_2_days_old")
    client = _client(sim, owner, secret="0" * 36)
    with pytest.raises(ccxt.AuthenticationError, match="10004"):
        client.privateGetV5OrderHistory({"category": "linear", "orderId": order["orderId"]})


def test_ccxt_bybit__unknown_key__authentication_error_10003(sim: SimExchange, edge: ScenarioFile) -> None:
    _, owner = _order(edge, "takeover_2_days_old")
    client = _client(sim, owner.model_copy(update={"api_key": "NOSUCHKEY000000000"}))
    with pytest.raises(ccxt.AuthenticationError, match="10003"):
        client.privateGetV5OrderHistory({"category": "linear"})


def test_ccxt_bybit__account_info__rsa_signature_over_empty_query(
    sim: SimExchange, edge: ScenarioFile
) -> None:
    _, owner = _order(edge, "rsa_key_account")
    response = _client(sim, owner).privateGetV5AccountInfo()
    assert (response["retCode"], response["result"]["marginMode"]) == (0, "REGULAR_MARGIN")
