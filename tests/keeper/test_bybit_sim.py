"""The simulated Bybit v5 API probed with raw HTTP: both key kinds, every error code, windows, retention,
limit headers, the IP ban, and the scenarios the generator puts on its wire."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from keeper.sim import bybit
from keeper.sim.faults import FaultConfig
from keeper.sim.generator import BYBIT_KINDS, KINDS, generate, generate_edge_cases
from keeper.sim.scenarios import OwnedRecord, ScenarioFile, SimAccount
from keeper.sim.server import SimExchange, SimLimits

DAY_MS = 86_400_000
NOW_S = 1_796_000_000
NOW_MS = NOW_S * 1000


class Clock:
    """The simulator's clock, moved by the test."""

    def __init__(self, at_ms: int = NOW_MS) -> None:
        self.at_ms = at_ms

    def __call__(self) -> float:
        return self.at_ms / 1000


def signature(account: SimAccount, timestamp: str, recv_window: str, query: str) -> str:
    """Bybit's GET signature, computed here independently of the simulator and the keeper."""
    payload = f"{timestamp}{account.api_key}{recv_window}{query}".encode()
    if account.private_key_pem is not None:
        key = serialization.load_pem_private_key(account.private_key_pem.encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return base64.b64encode(key.sign(payload, padding.PKCS1v15(), hashes.SHA256())).decode()
    return hmac.new(account.secret.encode(), payload, hashlib.sha256).hexdigest()


def get(
    sim: SimExchange,
    account: SimAccount,
    path: str,
    params: dict[str, Any],
    *,
    timestamp_ms: int | None = None,
    recv_window: str = "5000",
    sign_query: str | None = None,
) -> requests.Response:
    query = urlencode(params)
    stamp = str(timestamp_ms if timestamp_ms is not None else int(sim.state.now_ms()))
    headers = {
        "X-BAPI-API-KEY": account.api_key,
        "X-BAPI-TIMESTAMP": stamp,
        "X-BAPI-RECV-WINDOW": recv_window,
        "X-BAPI-SIGN": signature(account, stamp, recv_window, query if sign_query is None else sign_query),
    }
    return requests.get(f"{sim.url}{path}?{query}", headers=headers, timeout=5)


def listed(response: requests.Response) -> list[dict[str, Any]]:
    body = response.json()
    assert (response.status_code, body["retCode"], body["retMsg"]) == (200, 0, "OK"), body
    return list(body["result"]["list"])


def ret_code(response: requests.Response) -> tuple[int, int]:
    return response.status_code, int(response.json()["retCode"])


@pytest.fixture(scope="module")
def edge() -> ScenarioFile:
    return generate_edge_cases(12_2026, NOW_S)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(edge: ScenarioFile, clock: Clock) -> Iterator[SimExchange]:
    exchange = SimExchange(edge, limits=SimLimits(), clock=clock).start()
    yield exchange
    exchange.stop()


def hmac_account(scenarios: ScenarioFile) -> SimAccount:
    return next(a for a in scenarios.accounts if a.exchange == "bybit" and a.secret)


def rsa_account(scenarios: ScenarioFile) -> SimAccount:
    return next(a for a in scenarios.accounts if a.exchange == "bybit" and a.private_key_pem)


def order_of(scenarios: ScenarioFile, scenario: str) -> dict[str, Any]:
    claim = next(e.claim for e in scenarios.expected if e.scenario == f"bybit:{scenario}")
    return next(o.wire for o in scenarios.bybit.orders if o.wire["orderId"] == claim["order_id"])


def owner_of(scenarios: ScenarioFile, order: dict[str, Any]) -> SimAccount:
    api_key = next(o.owner for o in scenarios.bybit.orders if o.wire is order)
    return next(a for a in scenarios.accounts if a.api_key == api_key)


def around(order: dict[str, Any], before_ms: int = DAY_MS, after_ms: int = DAY_MS) -> dict[str, int]:
    created = int(order["createdTime"])
    return {"startTime": created - before_ms, "endTime": created + after_ms}


# ---------------------------------------------------------------------------- authentication


def test_order_history__hmac_signed__envelope_and_limit_headers(sim: SimExchange, edge: ScenarioFile) -> None:
    order = order_of(edge, "takeover_2_days_old")
    params = {"category": "linear", "symbol": order["symbol"], "orderId": order["orderId"]}
    response = get(sim, owner_of(edge, order), "/v5/order/history", params)
    body = response.json()
    assert (body["retCode"], body["retMsg"], body["retExtInfo"], body["time"]) == (0, "OK", {}, NOW_MS)
    assert body["result"] == {"category": "linear", "nextPageCursor": "", "list": [order]}
    assert response.headers["X-Bapi-Limit"] == "50"
    assert response.headers["X-Bapi-Limit-Status"] == "49"
    assert response.headers["X-Bapi-Limit-Reset-Timestamp"] == str(NOW_MS)


def test_order_history__rsa_key_account__pkcs1v15_sha256_base64_accepted(
    sim: SimExchange, edge: ScenarioFile
) -> None:
    order = order_of(edge, "rsa_key_account")
    account = rsa_account(edge)
    assert owner_of(edge, order) == account and account.secret == ""
    params = {"category": "linear", "symbol": order["symbol"], "orderId": order["orderId"]}
    assert listed(get(sim, account, "/v5/order/history", params)) == [order]


def test_rsa_key_account__hmac_signature__401_10004(sim: SimExchange, edge: ScenarioFile) -> None:
    account = rsa_account(edge)
    as_hmac = account.model_copy(update={"private_key_pem": None, "public_key_pem": None, "secret": "x" * 36})
    response = get(sim, as_hmac, "/v5/order/history", {"category": "linear"})
    assert ret_code(response) == (401, 10004)


def test_rsa_signature_of_another_key__401_10004(sim: SimExchange, edge: ScenarioFile) -> None:
    account = rsa_account(edge)
    other_private, other_public = bybit.rsa_key_pair(random.Random(99), bits=1024)
    impostor = account.model_copy(update={"private_key_pem": other_private, "public_key_pem": other_public})
    assert ret_code(get(sim, impostor, "/v5/order/history", {"category": "linear"})) == (401, 10004)


def test_unknown_api_key__401_10003(sim: SimExchange, edge: ScenarioFile) -> None:
    stranger = hmac_account(edge).model_copy(update={"api_key": "NOSUCHKEY000000000"})
    response = get(sim, stranger, "/v5/order/history", {"category": "linear"})
    assert ret_code(response) == (401, 10003)
    assert response.json()["retMsg"] == "API key is invalid."


def test_tampered_query__401_10004(sim: SimExchange, edge: ScenarioFile) -> None:
    response = get(
        sim, hmac_account(edge), "/v5/order/history", {"category": "linear"}, sign_query="category=inverse"
    )
    assert ret_code(response) == (401, 10004)


def test_signature_covers_recv_window_as_sent(sim: SimExchange, edge: ScenarioFile) -> None:
    account = hmac_account(edge)
    assert ret_code(get(sim, account, "/v5/order/history", {"category": "linear"}, recv_window="20000")) == (
        200,
        0,
    )
    stamp = str(NOW_MS)
    headers = {
        "X-BAPI-API-KEY": account.api_key,
        "X-BAPI-TIMESTAMP": stamp,
        "X-BAPI-RECV-WINDOW": "20000",
        "X-BAPI-SIGN": signature(account, stamp, "5000", "category=linear"),
    }
    response = requests.get(f"{sim.url}/v5/order/history?category=linear", headers=headers, timeout=5)
    assert ret_code(response) == (401, 10004)


@pytest.mark.parametrize(
    ("offset_ms", "recv_window", "accepted"),
    [
        (-5000, "5000", True),  # server_time - recv_window <= timestamp
        (-5001, "5000", False),
        (999, "5000", True),  # timestamp < server_time + 1000
        (1000, "5000", False),
        (-9000, "10000", True),
    ],
)
def test_timestamp_window__server_time_minus_recv_window_to_plus_1s__else_10002(
    sim: SimExchange, edge: ScenarioFile, offset_ms: int, recv_window: str, accepted: bool
) -> None:
    response = get(
        sim,
        hmac_account(edge),
        "/v5/order/history",
        {"category": "linear"},
        timestamp_ms=NOW_MS + offset_ms,
        recv_window=recv_window,
    )
    assert ret_code(response) == ((200, 0) if accepted else (200, 10002))


def test_timestamp_outside_window__10002_names_both_clocks(sim: SimExchange, edge: ScenarioFile) -> None:
    response = get(
        sim, hmac_account(edge), "/v5/order/history", {"category": "linear"}, timestamp_ms=NOW_MS - 6000
    )
    message = response.json()["retMsg"]
    assert f"req_timestamp[{NOW_MS - 6000}]" in message and f"server_timestamp[{NOW_MS}]" in message


def _custom_sim(account: SimAccount, clock: Clock, limits: SimLimits | None = None) -> SimExchange:
    return SimExchange(ScenarioFile(accounts=[account]), limits=limits or SimLimits(), clock=clock).start()


def test_key_without_permission_for_endpoint__10005(edge: ScenarioFile, clock: Clock) -> None:
    account = hmac_account(edge).model_copy(update={"permissions": ("/v5/execution/list",)})
    sim = _custom_sim(account, clock)
    try:
        assert ret_code(get(sim, account, "/v5/order/history", {"category": "linear"})) == (200, 10005)
        assert ret_code(get(sim, account, "/v5/execution/list", {"category": "linear"})) == (200, 0)
    finally:
        sim.stop()


def test_key_bound_to_other_ip__10010(edge: ScenarioFile, clock: Clock) -> None:
    account = hmac_account(edge).model_copy(update={"ip_whitelist": ("203.0.113.7",)})
    sim = _custom_sim(account, clock)
    try:
        assert ret_code(get(sim, account, "/v5/order/history", {"category": "linear"})) == (200, 10010)
    finally:
        sim.stop()


def test_market_time__public__seconds_nanos_and_envelope_time(sim: SimExchange) -> None:
    body = requests.get(f"{sim.url}/v5/market/time", timeout=5).json()
    assert body == {
        "retCode": 0,
        "retMsg": "OK",
        "result": {"timeSecond": str(NOW_S), "timeNano": str(NOW_MS * 1_000_000)},
        "retExtInfo": {},
        "time": NOW_MS,
    }


def test_unknown_v5_path__404_10017(sim: SimExchange) -> None:
    response = requests.get(f"{sim.url}/v5/order/realtime?category=linear", timeout=5)
    assert ret_code(response) == (404, 10017)


# ---------------------------------------------------------------------------- limits


def test_per_uid_limit__over_it_10006_with_exhausted_headers(edge: ScenarioFile, clock: Clock) -> None:
    account = hmac_account(edge)
    sim = _custom_sim(account, clock, SimLimits(bybit_per_uid_per_s=2))
    try:
        first = get(sim, account, "/v5/order/history", {"category": "linear"})
        second = get(sim, account, "/v5/order/history", {"category": "linear"})
        third = get(sim, account, "/v5/order/history", {"category": "linear"})
        other_endpoint = get(sim, account, "/v5/execution/list", {"category": "linear"})
        clock.at_ms += 1000
        next_second = get(sim, account, "/v5/order/history", {"category": "linear"})
    finally:
        sim.stop()
    assert [r.headers["X-Bapi-Limit-Status"] for r in (first, second)] == ["1", "0"]
    assert ret_code(third) == (200, 10006) and third.json()["retMsg"] == "Too many visits!"
    assert third.headers["X-Bapi-Limit-Status"] == "0"
    assert third.headers["X-Bapi-Limit-Reset-Timestamp"] == str(NOW_MS + 1000)
    assert ret_code(other_endpoint) == (200, 0)  # per endpoint
    assert ret_code(next_second) == (200, 0)


def test_ip_over_600_per_5s__403_access_too_frequent_for_10_minutes(edge: ScenarioFile, clock: Clock) -> None:
    account = hmac_account(edge)
    sim = _custom_sim(account, clock, SimLimits(bybit_ip_per_5s=3))
    try:
        served = [requests.get(f"{sim.url}/v5/market/time", timeout=5).status_code for _ in range(3)]
        refused = get(sim, account, "/v5/order/history", {"category": "linear"})
        clock.at_ms += 599_000
        still = requests.get(f"{sim.url}/v5/market/time", timeout=5)
        clock.at_ms += 1_000
        after = get(sim, account, "/v5/order/history", {"category": "linear"})
    finally:
        sim.stop()
    assert served == [200, 200, 200]
    assert (refused.status_code, refused.content) == (403, bybit.ACCESS_TOO_FREQUENT)
    assert b"access too frequent" in refused.content
    assert still.status_code == 403
    assert ret_code(after) == (200, 0)


def test_injected_rate_limit_fault__bybit_answers_10006(sim: SimExchange, edge: ScenarioFile) -> None:
    sim.set_faults(FaultConfig(rate_limit_burst=1))
    response = get(sim, hmac_account(edge), "/v5/order/history", {"category": "linear"})
    assert ret_code(response) == (200, 10006) and response.headers["X-Bapi-Limit-Status"] == "0"


# ---------------------------------------------------------------------------- windows and retention


def test_order_history__20_days_old__only_with_window_around_it(sim: SimExchange, edge: ScenarioFile) -> None:
    order = order_of(edge, "takeover_20_days_old_needs_windows")
    account = owner_of(edge, order)
    by_id = {"category": "linear", "symbol": order["symbol"], "orderId": order["orderId"]}
    assert listed(get(sim, account, "/v5/order/history", by_id)) == []  # the default: the last 7 days
    assert listed(get(sim, account, "/v5/order/history", {**by_id, **around(order)})) == [order]
    only_start = {**by_id, "startTime": int(order["createdTime"]) - 6 * DAY_MS}
    assert listed(get(sim, account, "/v5/order/history", only_start)) == [order]
    only_end = {**by_id, "endTime": int(order["createdTime"]) + 8 * DAY_MS}
    assert listed(get(sim, account, "/v5/order/history", only_end)) == []


@pytest.mark.parametrize(
    "path",
    ["/v5/order/history", "/v5/execution/list", "/v5/position/closed-pnl", "/v5/account/transaction-log"],
)
def test_span_over_7_days__10001_exactly_7_days_accepted(
    sim: SimExchange, edge: ScenarioFile, path: str
) -> None:
    account = hmac_account(edge)
    start = NOW_MS - 30 * DAY_MS
    exact = {"category": "linear", "startTime": start, "endTime": start + 7 * DAY_MS}
    assert ret_code(get(sim, account, path, exact)) == (200, 0)
    longer = {**exact, "endTime": start + 7 * DAY_MS + 1}
    assert ret_code(get(sim, account, path, longer)) == (200, 10001)
    reversed_span = {**exact, "startTime": start + 1, "endTime": start}
    assert ret_code(get(sim, account, path, reversed_span)) == (200, 10001)


def test_order_history__cancelled_without_fills__kept_24_hours(sim: SimExchange, edge: ScenarioFile) -> None:
    account = edge.accounts[[a.exchange for a in edge.accounts].index("bybit")]
    cancelled = [o.wire for o in edge.bybit.orders if o.wire["orderStatus"] == "Cancelled"]
    ages = sorted(NOW_MS - int(o["createdTime"]) for o in cancelled)
    assert ages == [2 * 3_600_000, 72 * 3_600_000]
    window = {
        "category": "linear",
        "startTime": NOW_MS - 4 * DAY_MS,
        "endTime": NOW_MS,
        "orderStatus": "Cancelled",
    }
    served = listed(get(sim, account, "/v5/order/history", window))
    assert [NOW_MS - int(o["createdTime"]) for o in served] == [2 * 3_600_000]


def test_filled_orders__kept_2_years__older_ones_gone_everywhere(
    sim: SimExchange, edge: ScenarioFile
) -> None:
    kept = order_of(edge, "takeover_200_days_old")
    gone = order_of(edge, "published_order_older_than_2_years")
    for order, expected in ((kept, 1), (gone, 0)):
        account = owner_of(edge, order)
        base = {"category": "linear", "symbol": order["symbol"]}
        assert len(listed(get(sim, account, "/v5/order/history", {**base, **around(order)}))) == expected
        executions = listed(get(sim, account, "/v5/execution/list", {**base, "orderId": order["orderId"]}))
        assert bool(executions) == bool(expected)
        pnl = listed(get(sim, account, "/v5/position/closed-pnl", {**base, **around(order)}))
        assert [p["orderId"] for p in pnl] == [order["orderId"]] * expected
        log = get(sim, account, "/v5/account/transaction-log", {**base, **around(order)})
        assert bool(listed(log)) == bool(expected)


def test_execution_list__with_order_id__other_filters_ignored(sim: SimExchange, edge: ScenarioFile) -> None:
    order = order_of(edge, "takeover_20_days_old_needs_windows")
    account = owner_of(edge, order)
    far_away = {"startTime": NOW_MS - 400 * DAY_MS, "endTime": NOW_MS - 399 * DAY_MS}
    params = {"category": "linear", "orderId": order["orderId"], "symbol": "DOGEUSDT", "execType": "Funding"}
    executions = listed(get(sim, account, "/v5/execution/list", {**params, **far_away}))
    assert {e["orderId"] for e in executions} == {order["orderId"]}
    assert sum(Decimal(e["execQty"]) for e in executions) == Decimal(order["cumExecQty"])
    # Without an order id: the last 7 days by default, so the 20-day-old fills are not there.
    recent = listed(
        get(sim, account, "/v5/execution/list", {"category": "linear", "symbol": order["symbol"]})
    )
    assert order["orderId"] not in {e["orderId"] for e in recent}


def test_transaction_log__default_24_hours__fee_positive_change_is_cash_flow_minus_fee(
    sim: SimExchange, edge: ScenarioFile
) -> None:
    order = order_of(edge, "takeover_2_days_old")
    account = owner_of(edge, order)
    assert listed(get(sim, account, "/v5/account/transaction-log", {"category": "linear"})) == []
    rows = listed(get(sim, account, "/v5/account/transaction-log", {"category": "linear", **around(order)}))
    rows = [r for r in rows if r["orderId"] == order["orderId"]]
    assert rows and {r["type"] for r in rows} == {"LIQUIDATION"}
    for row in rows:
        funding = Decimal(row["funding"] or "0")
        assert Decimal(row["change"]) == Decimal(row["cashFlow"]) + funding - Decimal(row["fee"])
        assert Decimal(row["fee"]) > 0  # an expense
    assert sum(Decimal(r["fee"]) for r in rows) == Decimal(order["cumExecFee"])


def test_unknown_order__empty_list_not_110001(sim: SimExchange, edge: ScenarioFile) -> None:
    claim = next(e.claim for e in edge.expected if e.scenario == "bybit:unknown_order_inside_retention")
    account = next(a for a in edge.accounts if a.account_ref == claim["account_ref"])
    params = {"category": "linear", "symbol": claim["instrument"], "orderId": claim["order_id"]}
    assert listed(get(sim, account, "/v5/order/history", params)) == []
    assert listed(get(sim, account, "/v5/execution/list", params)) == []


def test_other_accounts_order__not_served(sim: SimExchange, edge: ScenarioFile) -> None:
    order = order_of(edge, "takeover_2_days_old")
    stranger = next(a for a in edge.accounts if a.exchange == "bybit" and a != owner_of(edge, order))
    params = {"category": "linear", "symbol": order["symbol"], "orderId": order["orderId"]}
    assert listed(get(sim, stranger, "/v5/order/history", params)) == []


def test_category__required_and_inverse_rows_only_under_inverse(sim: SimExchange, edge: ScenarioFile) -> None:
    order = order_of(edge, "inverse_settles_in_btc")
    account = owner_of(edge, order)
    assert ret_code(get(sim, account, "/v5/order/history", {"orderId": order["orderId"]})) == (200, 10001)
    by_id = {"symbol": order["symbol"], "orderId": order["orderId"], **around(order)}
    assert listed(get(sim, account, "/v5/order/history", {"category": "linear", **by_id})) == []
    assert listed(get(sim, account, "/v5/order/history", {"category": "inverse", **by_id})) == [order]
    fills = listed(
        get(sim, account, "/v5/execution/list", {"category": "inverse", "orderId": order["orderId"]})
    )
    assert {f["feeCurrency"] for f in fills} == {"BTC"}


def test_pagination__limit_and_cursor__every_row_once(sim: SimExchange, edge: ScenarioFile) -> None:
    order = order_of(edge, "laddered_then_takeover__laddered")
    account = owner_of(edge, order)
    window = {"category": "linear", "symbol": order["symbol"], **around(order)}
    everything = listed(get(sim, account, "/v5/order/history", window))
    assert len(everything) >= 2
    seen: list[dict[str, Any]] = []
    cursor = ""
    while True:
        response = get(
            sim,
            account,
            "/v5/order/history",
            {**window, "limit": 1, **({"cursor": cursor} if cursor else {})},
        )
        seen += listed(response)
        cursor = response.json()["result"]["nextPageCursor"]
        if not cursor:
            break
    assert seen == everything
    assert [int(o["createdTime"]) for o in everything] == sorted(
        (int(o["createdTime"]) for o in everything), reverse=True
    )
    assert ret_code(get(sim, account, "/v5/order/history", {**window, "limit": 51})) == (200, 10001)
    assert ret_code(get(sim, account, "/v5/execution/list", {**window, "limit": 100})) == (200, 0)
    assert ret_code(get(sim, account, "/v5/execution/list", {**window, "limit": 0})) == (200, 10001)


# ---------------------------------------------------------------------------- what the generator publishes


@pytest.mark.parametrize(
    ("scenario", "create_type", "exec_type", "log_type"),
    [
        ("takeover_2_days_old", "CreateByTakeOver_PassThrough", "BustTrade", "LIQUIDATION"),
        ("laddered_then_takeover__laddered", "CreateByLiq", "Trade", "LIQUIDATION"),
        ("adl_not_covered", "CreateByAdl_PassThrough", "AdlTrade", "ADL"),
    ],
)
def test_edge_liquidations__create_type_exec_type_and_log_type(
    edge: ScenarioFile, scenario: str, create_type: str, exec_type: str, log_type: str
) -> None:
    order = order_of(edge, scenario)
    assert order["createType"] == create_type
    fills = [e.wire for e in edge.bybit.executions if e.wire["orderId"] == order["orderId"]]
    assert {f["execType"] for f in fills} == {exec_type}
    assert {t.wire["type"] for t in edge.bybit.transactions if t.wire["orderId"] == order["orderId"]} == {
        log_type
    }


def test_closed_pnl__net_of_open_and_close_fee__loss_is_closed_pnl_plus_open_fee(edge: ScenarioFile) -> None:
    for expected in (e for e in edge.expected if e.scenario.startswith("bybit:") and e.loss is not None):
        order_id = expected.claim["order_id"]
        row = next(p.wire for p in edge.bybit.closed_pnl if p.wire["orderId"] == order_id)
        fills = [x.wire for x in edge.bybit.executions if x.wire["orderId"] == order_id]
        log = [t.wire for t in edge.bybit.transactions if t.wire["orderId"] == order_id]
        gross = Decimal(row["cumExitValue"]) - Decimal(row["cumEntryValue"])
        close_fee, open_fee = Decimal(row["closeFee"]), Decimal(row["openFee"])
        assert Decimal(row["closedPnl"]) == gross - open_fee - close_fee
        assert close_fee == sum(Decimal(f["execFee"]) for f in fills) and open_fee > 0
        net = Decimal(row["closedPnl"]) + open_fee
        assert net == sum(Decimal(t["change"]) for t in log)
        assert expected.loss is not None and Decimal(expected.loss) == max(-net, Decimal(0)), (
            expected.scenario
        )


def test_maker_rebate__negative_exec_fee_lowers_loss(edge: ScenarioFile) -> None:
    order = order_of(edge, "maker_rebate_lowers_loss")
    fills = [e.wire for e in edge.bybit.executions if e.wire["orderId"] == order["orderId"]]
    assert Decimal(fills[0]["execFee"]) < 0 and fills[0]["isMaker"] is True
    assert all(Decimal(f["execFee"]) == 0 for f in fills[1:])
    expected = next(e for e in edge.expected if e.scenario == "bybit:maker_rebate_lowers_loss")
    pnl = next(p.wire for p in edge.bybit.closed_pnl if p.wire["orderId"] == order["orderId"])
    gross = Decimal(pnl["cumExitValue"]) - Decimal(pnl["cumEntryValue"])
    assert expected.loss is not None and Decimal(expected.loss) == -gross + Decimal(fills[0]["execFee"])


def test_edge_cases__symbols_settle_in_usdt_usdc_and_btc(edge: ScenarioFile) -> None:
    settle = {
        name: {
            f.wire["feeCurrency"]
            for f in edge.bybit.executions
            if f.wire["orderId"] == order_of(edge, name)["orderId"]
        }
        for name in ("takeover_2_days_old", "usdc_perpetual", "inverse_settles_in_btc")
    }
    assert settle == {
        "takeover_2_days_old": {"USDT"},
        "usdc_perpetual": {"USDC"},
        "inverse_settles_in_btc": {"BTC"},
    }
    assert [bybit.category_of(s) for s in ("BTCUSDT", "ETHPERP", "BTCUSD", "BTCUSDH26", "BTC-26DEC25")] == [
        "linear",
        "linear",
        "inverse",
        "inverse",
        "linear",
    ]


def test_keeper_accounts__bybit_hmac_secret_or_rsa_private_key(edge: ScenarioFile) -> None:
    accounts = edge.keeper_accounts()
    hmac_entry = accounts[hmac_account(edge).account_ref]
    rsa_entry = accounts[rsa_account(edge).account_ref]
    assert set(hmac_entry) == {"exchange", "api_key", "secret"} and hmac_entry["exchange"] == "bybit"
    assert set(rsa_entry) == {"exchange", "api_key", "private_key_pem"}
    assert rsa_entry["private_key_pem"].startswith("-----BEGIN PRIVATE KEY-----")
    assert "PRIVATE" not in repr(rsa_account(edge))


def test_sim_account__rsa_needs_both_halves_and_no_secret() -> None:
    private_pem, public_pem = bybit.rsa_key_pair(random.Random(3), bits=1024)
    base: dict[str, Any] = {"account_ref": "0x" + "ab" * 32, "exchange": "bybit", "api_key": "K" * 18}
    SimAccount(**base, private_key_pem=private_pem, public_key_pem=public_pem)
    with pytest.raises(ValueError, match="both halves"):
        SimAccount(**base, private_key_pem=private_pem)
    with pytest.raises(ValueError, match="exactly one"):
        SimAccount(**base, secret="s", private_key_pem=private_pem, public_key_pem=public_pem)
    with pytest.raises(ValueError, match="exactly one"):
        SimAccount(**base)


def test_rsa_key_pair__seeded__repeats() -> None:
    assert bybit.rsa_key_pair(random.Random(5), bits=1024) == bybit.rsa_key_pair(random.Random(5), bits=1024)
    assert bybit.rsa_key_pair(random.Random(5), bits=1024) != bybit.rsa_key_pair(random.Random(6), bits=1024)


def test_generate__bybit_in_the_rotation__every_kind_once_and_deterministic() -> None:
    scenarios = generate(60, 20261124)
    bybit_kinds = [
        e.scenario.removeprefix("bybit:") for e in scenarios.expected if e.scenario.startswith("bybit:")
    ]
    assert set(bybit_kinds) == set(BYBIT_KINDS) == set(KINDS)
    assert len(bybit_kinds) == 20
    assert generate(12, 5).model_dump() == generate(12, 5).model_dump()
    for order in scenarios.bybit.orders:
        fills = [e.wire for e in scenarios.bybit.executions if e.wire["orderId"] == order.wire["orderId"]]
        assert sum(Decimal(f["execQty"]) for f in fills) == Decimal(order.wire["cumExecQty"])
        owners = {e.owner for e in scenarios.bybit.executions if e.wire["orderId"] == order.wire["orderId"]}
        assert owners == {order.owner}


def test_published_rows__owned_records_round_trip_through_the_scenario_file(
    edge: ScenarioFile, tmp_path: Any
) -> None:
    path = tmp_path / "edge.json"
    edge.dump(path)
    loaded = ScenarioFile.load(path)
    assert loaded.bybit == edge.bybit
    assert all(isinstance(r, OwnedRecord) for r in loaded.bybit.transactions)
    assert [a for a in loaded.accounts if a.exchange == "bybit"] == [
        a for a in edge.accounts if a.exchange == "bybit"
    ]


def test_regular_generation__real_clock__recent_bybit_liquidations_need_windows() -> None:
    # The regular mix falls 40 to 10 days before now: every Bybit liquidation is past the default 7 days.
    scenarios = generate(30, 4)
    now_ms = time.time() * 1000
    ages = [now_ms - int(o.wire["createdTime"]) for o in scenarios.bybit.orders]
    assert ages and min(ages) > 7 * DAY_MS


def test_account_info__margin_mode_of_each_account__signed_over_empty_query(
    sim: SimExchange, edge: ScenarioFile
) -> None:
    isolated = owner_of(edge, order_of(edge, "isolated_margin_account"))
    regular = owner_of(edge, order_of(edge, "takeover_2_days_old"))
    modes = {}
    for account in (isolated, regular, rsa_account(edge)):
        response = get(sim, account, "/v5/account/info", {})
        assert ret_code(response) == (200, 0)
        modes[account.account_ref] = response.json()["result"]["marginMode"]
    assert modes == {
        isolated.account_ref: "ISOLATED_MARGIN",
        regular.account_ref: "REGULAR_MARGIN",
        rsa_account(edge).account_ref: "REGULAR_MARGIN",
    }


def test_order_history__settle_coin_and_base_coin_filters(sim: SimExchange, edge: ScenarioFile) -> None:
    order = order_of(edge, "usdc_perpetual")
    account = owner_of(edge, order)
    window = {"category": "linear", **around(order, 12 * 3_600_000, 12 * 3_600_000)}
    usdc = listed(get(sim, account, "/v5/order/history", {**window, "settleCoin": "USDC"}))
    assert usdc == [order]
    assert (
        listed(get(sim, account, "/v5/order/history", {**window, "baseCoin": "BTC", "settleCoin": "USDC"}))
        == []
    )
