"""The simulator's wire format, probed with raw HTTP: headers, signatures, windows, errors, limits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

import requests

from keeper.sim.generator import generate
from keeper.sim.scenarios import ScenarioFile, SimAccount
from keeper.sim.server import SimExchange, SimLimits


def okx_headers(account: SimAccount, request_path: str, when: datetime | None = None) -> dict[str, str]:
    moment = (when or datetime.now(UTC)).astimezone(UTC)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    sign = base64.b64encode(
        hmac.new(account.secret.encode(), f"{stamp}GET{request_path}".encode(), hashlib.sha256).digest()
    ).decode()
    assert account.passphrase is not None
    return {
        "OK-ACCESS-KEY": account.api_key,
        "OK-ACCESS-SIGN": sign,
        "OK-ACCESS-TIMESTAMP": stamp,
        "OK-ACCESS-PASSPHRASE": account.passphrase,
    }


def binance_query(account: SimAccount, params: dict[str, str], timestamp_ms: int | None = None) -> str:
    stamp = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    query = urlencode({**params, "timestamp": str(stamp)})
    return (
        f"{query}&signature={hmac.new(account.secret.encode(), query.encode(), hashlib.sha256).hexdigest()}"
    )


def owner(scenarios: ScenarioFile, api_key: str) -> SimAccount:
    return next(a for a in scenarios.accounts if a.api_key == api_key)


def test_okx__signed_order_request__envelope_with_string_fields(
    sim: SimExchange, scenarios: ScenarioFile
) -> None:
    order = scenarios.okx.orders[0]
    path = f"/api/v5/trade/order?instId={order.wire['instId']}&ordId={order.wire['ordId']}"
    reply = requests.get(sim.url + path, headers=okx_headers(owner(scenarios, order.owner), path), timeout=5)
    body = reply.json()
    assert (reply.status_code, body["code"], body["msg"], body["data"]) == (200, "0", "", [order.wire])
    assert all(
        isinstance(v, str) for k, v in body["data"][0].items() if k not in ("attachAlgoOrds", "linkedAlgoOrd")
    )


def test_okx__missing_key_header__50103(sim: SimExchange) -> None:
    reply = requests.get(sim.url + "/api/v5/trade/order?instId=BTC-USDT-SWAP&ordId=1", timeout=5)
    assert (reply.status_code, reply.json()) == (
        401,
        {"msg": 'Request header "OK-ACCESS-KEY" cannot be empty.', "code": "50103"},
    )


def test_okx__tampered_query__50113_invalid_sign_without_data(
    sim: SimExchange, scenarios: ScenarioFile
) -> None:
    order = scenarios.okx.orders[0]
    signed_path = f"/api/v5/trade/order?instId={order.wire['instId']}&ordId={order.wire['ordId']}"
    headers = okx_headers(owner(scenarios, order.owner), signed_path)
    reply = requests.get(sim.url + signed_path + "0", headers=headers, timeout=5)
    assert (reply.status_code, reply.json()) == (401, {"msg": "Invalid Sign", "code": "50113"})


def test_okx__timestamp_31s_old__50102(sim: SimExchange, scenarios: ScenarioFile) -> None:
    order = scenarios.okx.orders[0]
    path = f"/api/v5/trade/order?instId={order.wire['instId']}&ordId={order.wire['ordId']}"
    headers = okx_headers(owner(scenarios, order.owner), path, datetime.now(UTC) - timedelta(seconds=31))
    reply = requests.get(sim.url + path, headers=headers, timeout=5)
    assert (reply.status_code, reply.json()["code"]) == (401, "50102")


def test_okx__other_accounts_order__51603_with_empty_data(sim: SimExchange, scenarios: ScenarioFile) -> None:
    order = scenarios.okx.orders[0]
    stranger = next(a for a in scenarios.accounts if a.exchange == "okx" and a.api_key != order.owner)
    path = f"/api/v5/trade/order?instId={order.wire['instId']}&ordId={order.wire['ordId']}"
    reply = requests.get(sim.url + path, headers=okx_headers(stranger, path), timeout=5)
    assert (reply.status_code, reply.json()) == (
        200,
        {"msg": "Order does not exist", "code": "51603", "data": []},
    )


def test_okx__unknown_path__404_numeric_code_body(sim: SimExchange) -> None:
    reply = requests.get(sim.url + "/api/v5/trade/nothing", timeout=5)
    assert reply.status_code == 404
    assert reply.json()["code"] == 404 and reply.json()["error_code"] == "404"


def test_okx__over_per_endpoint_limit__429_50011(scenarios: ScenarioFile) -> None:
    sim = SimExchange(
        scenarios, limits=SimLimits(okx_per_2s={"trade/order": 3, "trade/fills": 3, "trade/fills-history": 3})
    ).start()
    try:
        order = scenarios.okx.orders[0]
        path = f"/api/v5/trade/order?instId={order.wire['instId']}&ordId={order.wire['ordId']}"
        account = owner(scenarios, order.owner)
        codes = [
            requests.get(sim.url + path, headers=okx_headers(account, path), timeout=5) for _ in range(4)
        ]
    finally:
        sim.stop()
    assert [r.status_code for r in codes] == [200, 200, 200, 429]
    assert codes[-1].json() == {"msg": "Too Many Requests", "code": "50011"}


def test_binance__signed_order__bare_object_and_weight_header(
    sim: SimExchange, scenarios: ScenarioFile
) -> None:
    order = scenarios.binance.orders[0]
    account = owner(scenarios, order.owner)
    query = binance_query(account, {"symbol": order.wire["symbol"], "orderId": str(order.wire["orderId"])})
    reply = requests.get(
        f"{sim.url}/fapi/v1/order?{query}", headers={"X-MBX-APIKEY": account.api_key}, timeout=5
    )
    assert (reply.status_code, reply.json(), reply.headers["X-MBX-USED-WEIGHT-1M"]) == (200, order.wire, "1")


def test_binance__bad_signature__400_minus_1022(sim: SimExchange, scenarios: ScenarioFile) -> None:
    order = scenarios.binance.orders[0]
    account = owner(scenarios, order.owner)
    query = binance_query(account, {"symbol": order.wire["symbol"], "orderId": str(order.wire["orderId"])})
    tampered = query.replace(f"orderId={order.wire['orderId']}", "orderId=1")
    reply = requests.get(
        f"{sim.url}/fapi/v1/order?{tampered}", headers={"X-MBX-APIKEY": account.api_key}, timeout=5
    )
    assert (reply.status_code, reply.json()) == (
        400,
        {"code": -1022, "msg": "Signature for this request is not valid."},
    )


def test_binance__timestamp_outside_recv_window__400_minus_1021(
    sim: SimExchange, scenarios: ScenarioFile
) -> None:
    order = scenarios.binance.orders[0]
    account = owner(scenarios, order.owner)
    stale = int(time.time() * 1000) - 6000
    query = binance_query(
        account, {"symbol": order.wire["symbol"], "orderId": str(order.wire["orderId"])}, stale
    )
    reply = requests.get(
        f"{sim.url}/fapi/v1/order?{query}", headers={"X-MBX-APIKEY": account.api_key}, timeout=5
    )
    assert (reply.status_code, reply.json()["code"]) == (400, -1021)


def test_binance__unknown_order__400_minus_2013(sim: SimExchange, scenarios: ScenarioFile) -> None:
    account = next(a for a in scenarios.accounts if a.exchange == "binance")
    query = binance_query(account, {"symbol": "BTCUSDT", "orderId": "42"})
    reply = requests.get(
        f"{sim.url}/fapi/v1/order?{query}", headers={"X-MBX-APIKEY": account.api_key}, timeout=5
    )
    assert (reply.status_code, reply.json()) == (400, {"code": -2013, "msg": "Order does not exist."})


def test_binance__force_orders_without_symbol__weight_50_and_both_kinds(
    sim: SimExchange, scenarios: ScenarioFile
) -> None:
    forced = scenarios.binance.force_orders[0]
    account = owner(scenarios, forced.owner)
    # The generated liquidations are older than the 7 days Binance returns when no time is sent.
    at = int(forced.wire["time"])
    query = binance_query(account, {"startTime": str(at - 3_600_000), "endTime": str(at + 3_600_000)})
    reply = requests.get(
        f"{sim.url}/fapi/v1/forceOrders?{query}", headers={"X-MBX-APIKEY": account.api_key}, timeout=5
    )
    mine = [
        r.wire
        for r in scenarios.binance.force_orders
        if r.owner == account.api_key and abs(int(r.wire["time"]) - at) <= 3_600_000
    ]
    assert (reply.headers["X-MBX-USED-WEIGHT-1M"], reply.json()) == ("50", mine)


def test_binance__weight_over_limit__429_minus_1003_with_retry_after(scenarios: ScenarioFile) -> None:
    sim = SimExchange(scenarios, limits=SimLimits(binance_weight_per_minute=2)).start()
    try:
        replies = [requests.get(f"{sim.url}/fapi/v1/time", timeout=5) for _ in range(3)]
    finally:
        sim.stop()
    assert [r.status_code for r in replies] == [200, 200, 429]
    assert replies[-1].json()["code"] == -1003
    assert replies[-1].headers["X-MBX-USED-WEIGHT-1M"] == "3"
    assert 1 <= int(replies[-1].headers["Retry-After"]) <= 60


def test_binance__listener_of_another_client_ip__weight_budget_of_its_own(scenarios: ScenarioFile) -> None:
    sim = SimExchange(scenarios, limits=SimLimits(binance_weight_per_minute=2)).start()
    try:
        other = sim.add_client_ip("198.51.100.2")
        mine = [requests.get(f"{sim.url}/fapi/v1/time", timeout=5) for _ in range(3)]
        theirs = [requests.get(f"{other}/fapi/v1/time", timeout=5) for _ in range(2)]
        for _ in range(5):  # over its budget and on through the back-off: the ban is that IP's alone
            requests.get(f"{other}/fapi/v1/time", timeout=5)
    finally:
        sim.stop()
    assert [r.status_code for r in mine] == [200, 200, 429]
    assert [(r.status_code, r.headers["X-MBX-USED-WEIGHT-1M"]) for r in theirs] == [(200, "1"), (200, "2")]
    assert sim.bans.banned_until("198.51.100.2") is not None
    assert sim.bans.banned_until("127.0.0.1") is None


def test_generate__same_seed__identical_scenarios() -> None:
    assert generate(12, 5).model_dump() == generate(12, 5).model_dump()
    assert generate(12, 5).model_dump() != generate(12, 6).model_dump()


def test_generate__okx_liquidation_fills__negative_trade_ids_and_sizes_add_up() -> None:
    scenarios = generate(40, 9)
    for order in scenarios.okx.orders:
        fills = [f.wire for f in scenarios.okx.fills if f.wire["ordId"] == order.wire["ordId"]]
        liquidation = order.wire["category"] != "normal"
        assert all(f["tradeId"].startswith("-") == liquidation for f in fills)
        assert fills
        assert sum(Decimal(f["fillSz"]) for f in fills) == Decimal(order.wire["accFillSz"])
